//! The list formats an import names, and the files each one is made of.

use crate::entry::{Entry, ParseError};
use crate::{ofac, own_csv, senzing, un};

/// A list file format, as `redflag lists import --format` and the admin API name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// OFAC's SDN list: `sdn.csv`, `alt.csv` and `add.csv`.
    OfacCsv,
    /// The UN Security Council consolidated list.
    UnXml,
    /// senzing JSON, one record a line (OpenSanctions exports).
    SenzingJson,
    /// A team's own list (see [`own_csv`]).
    Csv,
}

impl ListFormat {
    pub const NAMES: [&'static str; 4] = ["ofac-csv", "un-xml", "senzing-json", "csv"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfacCsv => "ofac-csv",
            Self::UnXml => "un-xml",
            Self::SenzingJson => "senzing-json",
            Self::Csv => "csv",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::OfacCsv, Self::UnXml, Self::SenzingJson, Self::Csv]
            .into_iter()
            .find(|format| format.as_str() == name)
    }

    /// The files an import of this format is given, in the order the command line takes them
    /// (and the names of the admin API's form parts).
    pub fn files(self) -> &'static [&'static str] {
        match self {
            Self::OfacCsv => &["sdn", "alt", "add"],
            Self::UnXml | Self::SenzingJson | Self::Csv => &["file"],
        }
    }

    /// Reads the entries from the files, given in [`ListFormat::files`] order. A text format's
    /// file must be UTF-8 (OFAC's may be Latin-1).
    pub fn parse(self, files: &[&[u8]]) -> Result<Vec<Entry>, ParseError> {
        let expected = self.files();
        if files.len() != expected.len() {
            return Err(ParseError::new(
                self.as_str(),
                0,
                format!(
                    "the format takes {} file(s) ({}), not {}",
                    expected.len(),
                    expected.join(", "),
                    files.len()
                ),
            ));
        }
        let text = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .map(|text| text.strip_prefix('\u{feff}').unwrap_or(text).to_owned())
                .map_err(|error| {
                    let line = bytes[..error.valid_up_to()]
                        .iter()
                        .filter(|byte| **byte == b'\n')
                        .count();
                    ParseError::new(self.as_str(), line as u64 + 1, "the file is not UTF-8 text")
                })
        };
        match self {
            Self::OfacCsv => ofac::parse(&ofac::OfacFiles {
                sdn: files[0],
                alt: files[1],
                add: files[2],
            }),
            Self::UnXml => un::parse(files[0]),
            Self::SenzingJson => senzing::parse(&text(files[0])?),
            Self::Csv => own_csv::parse(&text(files[0])?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_named_and_takes_its_files() {
        for name in ListFormat::NAMES {
            let format = ListFormat::from_name(name).expect("a known format");
            assert_eq!(format.as_str(), name);
        }
        assert_eq!(ListFormat::from_name("xlsx"), None);
        let error = ListFormat::OfacCsv
            .parse(&[b"1,\"X\",-0-,SDGT,-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\n"])
            .expect_err("one file of three");
        assert_eq!(
            error.reason,
            "the format takes 3 file(s) (sdn, alt, add), not 1"
        );
    }

    #[test]
    fn a_text_list_that_is_not_utf8_names_its_line() {
        let error = ListFormat::Csv
            .parse(&[b"id,name\nM-1,Jos\xe9\n"])
            .expect_err("Latin-1");
        assert_eq!(
            (error.line, error.reason.as_str()),
            (2, "the file is not UTF-8 text")
        );
        let entries = ListFormat::Csv
            .parse(&["\u{feff}id,name\nM-1,José\n".as_bytes()])
            .expect("a byte-order mark is read past");
        assert_eq!(entries[0].name, "José");
    }
}
