//! What a trader's window remembers of each event beyond price and volume: its type, side and
//! order (or, for a trade, the counterparty), packed into the activity's `counterparty` text as
//! `type|side|id` so that both stores keep it without a schema of their own.

use crate::{EventType, MarketEvent, Side};

/// One remembered event of a trader.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag<'a> {
    pub kind: EventType,
    pub side: Option<Side>,
    /// The order id of an order, cancel or modify; the counterparty of a trade.
    pub id: &'a str,
}

/// The tag of the event being recorded.
pub fn encode(event: &MarketEvent) -> String {
    let id = match event.event_type {
        EventType::Trade => event.counterparty_id.as_deref(),
        _ => event.order_id.as_deref(),
    };
    format!(
        "{}|{}|{}",
        event.event_type.as_str(),
        event.side.map_or("-", Side::as_str),
        id.unwrap_or_default()
    )
}

/// Reads a tag back; `None` for text that is not one. Tags are written by [`encode`] alone, so
/// the names are matched exactly (this runs for every event in a trader's window).
pub fn decode(text: &str) -> Option<Tag<'_>> {
    let (kind, rest) = text.split_once('|')?;
    let (side, id) = rest.split_once('|')?;
    let kind = match kind {
        "order" => EventType::Order,
        "cancel" => EventType::Cancel,
        "modify" => EventType::Modify,
        "trade" => EventType::Trade,
        _ => return None,
    };
    let side = match side {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    };
    Some(Tag { kind, side, id })
}

/// Only the kind of a tag, from its first letter (the four kinds differ in it): cheaper than
/// [`decode`] where the side and id do not matter.
pub fn kind_of(text: &str) -> Option<EventType> {
    match text.as_bytes().first()? {
        b'o' => Some(EventType::Order),
        b'c' => Some(EventType::Cancel),
        b'm' => Some(EventType::Modify),
        b't' => Some(EventType::Trade),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_reads_back_as_written() {
        let mut event = MarketEvent::trade("X", 1.0, 1.0, "T");
        event.event_type = EventType::Order;
        event.side = Some(Side::Sell);
        event.order_id = Some("O|7".to_owned());
        let text = encode(&event);
        assert_eq!(text, "order|sell|O|7");
        assert_eq!(
            decode(&text),
            Some(Tag {
                kind: EventType::Order,
                side: Some(Side::Sell),
                id: "O|7"
            })
        );
        assert_eq!(decode("cancel|-|O-1").map(|tag| tag.side), Some(None));
        assert_eq!(decode("nonsense"), None);
        for kind in [
            EventType::Order,
            EventType::Cancel,
            EventType::Modify,
            EventType::Trade,
        ] {
            assert_eq!(kind_of(&format!("{}|-|x", kind.as_str())), Some(kind));
        }
    }
}
