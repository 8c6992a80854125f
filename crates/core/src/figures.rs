//! Figures in alert sentences: fixed decimals written from integers.
//!
//! `format!("{:.2}", x)` takes the exact (Dragon) path of the float formatter, which dominated
//! the cost of building alerts; rounding to an integer first and writing that is an order of
//! magnitude faster and reads the same for every amount a claim or transfer can carry (they are
//! bounded far below 2^53 cents).

use std::fmt;

/// `value` with `places` decimals (0 to 6), rounded half away from zero: `Fixed(1.625, 1)` is
/// `1.6`, `Fixed(0.5, 0)` is `1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed(pub f64, pub u8);

/// An amount of money as the contract's sentences show it: `$52000.00`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Money(pub f64);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(value, places) = *self;
        let places = u32::from(places.min(6));
        let scale = 10_i64.pow(places);
        let scaled = value * scale as f64;
        if !scaled.is_finite() || scaled.abs() >= 9.0e15 {
            // Beyond exact integers: fall back to the standard formatter.
            return write!(f, "{value:.*}", places as usize);
        }
        let scaled = scaled.round() as i64;
        let sign = if scaled < 0 { "-" } else { "" };
        let (whole, fraction) = (scaled.abs() / scale, scaled.abs() % scale);
        if places == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(
                f,
                "{sign}{whole}.{fraction:0width$}",
                width = places as usize
            )
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", Fixed(self.0, 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_decimals_read_as_the_standard_formatter_does() {
        assert_eq!(Money(52_000.0).to_string(), "$52000.00");
        assert_eq!(Money(843.75).to_string(), "$843.75");
        assert_eq!(Money(332.1429).to_string(), "$332.14");
        assert_eq!(Fixed(1.625, 1).to_string(), "1.6");
        assert_eq!(Fixed(4.236, 1).to_string(), "4.2");
        assert_eq!(Fixed(0.5, 0).to_string(), "1");
        assert_eq!(Fixed(-2.25, 1).to_string(), "-2.3");
        assert_eq!(Fixed(-0.04, 1).to_string(), "0.0");
        assert_eq!(Fixed(7.0, 0).to_string(), "7");
        assert_eq!(Fixed(1e20, 2).to_string(), "100000000000000000000.00");
        for cents in [1_u32, 5, 10, 99, 12_345, 999_999] {
            let amount = f64::from(cents) / 100.0;
            assert_eq!(Money(amount).to_string(), format!("${amount:.2}"));
        }
    }
}
