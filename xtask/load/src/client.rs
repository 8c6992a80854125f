//! A minimal HTTP/1.1 client over one kept-alive connection: what a load generator needs and
//! nothing more (JSON bodies, `Content-Length` responses), so that the client costs little of the
//! machine it shares with the server.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where the server is: its socket address and the `Host` header to send.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: String,
    /// `http://host:port`, as given.
    pub url: String,
}

impl Target {
    /// Reads `http://host:port` (a trailing path or slash is ignored).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("`{url}`: only http:// URLs are supported"))?;
        let host = rest.split('/').next().unwrap_or_default().to_owned();
        let with_port = if host.contains(':') {
            host.clone()
        } else {
            format!("{host}:80")
        };
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&with_port)
            .map_err(|e| format!("`{url}`: {e}"))?
            .next()
            .ok_or_else(|| format!("`{url}`: the host does not resolve"))?;
        Ok(Self {
            addr,
            host,
            url: format!("http://{}", rest.trim_end_matches('/')),
        })
    }
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One kept-alive connection.
pub struct Connection {
    stream: TcpStream,
    host: String,
    buffer: Vec<u8>,
    request: Vec<u8>,
}

impl Connection {
    pub async fn open(target: &Target) -> io::Result<Self> {
        let stream = TcpStream::connect(target.addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            host: target.host.clone(),
            buffer: Vec::with_capacity(8192),
            request: Vec::with_capacity(4096),
        })
    }

    /// Sends one request and reads its whole response.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> io::Result<Response> {
        self.request.clear();
        self.request.extend_from_slice(
            format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                self.host,
                body.len()
            )
            .as_bytes(),
        );
        if let Some(token) = token {
            self.request
                .extend_from_slice(format!("Authorization: Bearer {token}\r\n").as_bytes());
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(body);
        self.stream.write_all(&self.request).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> io::Result<Response> {
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..header_end])
            .map_err(|_| invalid("response head is not UTF-8"))?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| invalid("no status code"))?;
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .ok_or_else(|| invalid("response without Content-Length"))?;
        while self.buffer.len() < header_end + length {
            self.fill().await?;
        }
        Ok(Response {
            status,
            body: self.buffer[header_end..header_end + length].to_vec(),
        })
    }

    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 8192];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// One JSON request on a connection of its own; the answer's body, or why it was refused.
pub async fn call(
    target: &Target,
    method: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let mut connection = Connection::open(target)
        .await
        .map_err(|e| format!("{}: {e}", target.url))?;
    let response = connection
        .send(method, path, Some(token), body.to_string().as_bytes())
        .await
        .map_err(|e| format!("{method} {}{path}: {e}", target.url))?;
    let reply: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    if (200..300).contains(&response.status) {
        Ok(reply)
    } else {
        Err(format!(
            "{method} {}{path} answered {}: {reply}",
            target.url, response.status
        ))
    }
}

/// Obtains an access token for `username`.
pub async fn token(target: &Target, username: &str, password: &str) -> Result<String, String> {
    let mut connection = Connection::open(target)
        .await
        .map_err(|e| format!("{}: {e}", target.url))?;
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let response = connection
        .send("POST", "/api/token/", None, body.as_bytes())
        .await
        .map_err(|e| format!("{}: {e}", target.url))?;
    let reply: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    match (response.status, reply["access"].as_str()) {
        (200, Some(access)) => Ok(access.to_owned()),
        (status, _) => Err(format!(
            "POST {}/api/token/ as `{username}` answered {status}: {reply}",
            target.url
        )),
    }
}

/// A user signed in, kept so that a run longer than an access token's life
/// (`auth.access_token_lifetime_seconds`, five minutes by default) signs in again when the server
/// answers 401, as a real client does, instead of counting every later request as an error.
pub struct SignIn {
    target: Target,
    username: String,
    password: String,
    token: RefCell<Rc<str>>,
    /// Whether the server has accepted the current token: a token refused before it was ever
    /// accepted did not expire, the server refuses the user (signing in again cannot help).
    accepted: Cell<bool>,
    /// Held while signing in again, so that connections refused together wait for one sign-in.
    renewing: tokio::sync::Mutex<()>,
}

impl SignIn {
    pub async fn new(target: &Target, username: &str, password: &str) -> Result<Self, String> {
        let token = token(target, username, password).await?;
        Ok(Self {
            target: target.clone(),
            username: username.to_owned(),
            password: password.to_owned(),
            token: RefCell::new(token.into()),
            accepted: Cell::new(false),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The current access token.
    pub fn token(&self) -> Rc<str> {
        Rc::clone(&self.token.borrow())
    }

    /// Notes that the server accepted `token`.
    pub fn accepted(&self, token: &Rc<str>) {
        if Rc::ptr_eq(token, &self.token.borrow()) {
            self.accepted.set(true);
        }
    }

    /// Whether `refused` had been accepted before (an expiry), or is an older token that
    /// another connection has replaced already.
    pub fn expired(&self, refused: &Rc<str>) -> bool {
        !Rc::ptr_eq(refused, &self.token.borrow()) || self.accepted.get()
    }

    /// Signs in again after `expired` was refused, unless another connection already did: many
    /// connections see their token expire together, and one sign-in serves them all.
    pub async fn renew(&self, expired: &Rc<str>) -> Result<(), String> {
        let _turn = self.renewing.lock().await;
        if !Rc::ptr_eq(expired, &self.token.borrow()) {
            return Ok(());
        }
        let signed_in = token(&self.target, &self.username, &self.password).await?;
        *self.token.borrow_mut() = signed_in.into();
        self.accepted.set(false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_kept_alive_connection_reads_each_response_by_its_length() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a client");
            let mut seen = Vec::new();
            for reply in ["{\"n\":1}", "{\"n\":22}"] {
                let mut chunk = [0u8; 1024];
                loop {
                    let read = socket.read(&mut chunk).await.expect("reads");
                    seen.extend_from_slice(&chunk[..read]);
                    if find(&seen, b"{}").is_some() {
                        seen.clear();
                        break;
                    }
                }
                let response = format!(
                    "HTTP/1.1 201 Created\r\ncontent-length: {}\r\n\r\n{reply}",
                    reply.len()
                );
                socket.write_all(response.as_bytes()).await.expect("writes");
            }
        });
        let target = Target::parse(&format!("http://{addr}/")).expect("a URL");
        assert_eq!(target.url, format!("http://{addr}"));
        let mut connection = Connection::open(&target).await.expect("connects");
        let first = connection
            .send("POST", "/x/", None, b"{}")
            .await
            .expect("first");
        let second = connection
            .send("POST", "/x/", Some("t"), b"{}")
            .await
            .expect("second");
        assert_eq!((first.status, first.body), (201, b"{\"n\":1}".to_vec()));
        assert_eq!(second.body, b"{\"n\":22}".to_vec());
        assert!(Target::parse("https://example.com").is_err());
    }
}
