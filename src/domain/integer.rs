//! Whole numbers as JSON writes them. JSON Schema counts `1582.0` as an integer, and
//! so do generated clients that keep numbers as floats; serde does not. These read
//! any number without a fractional part into the integer type, and refuse the rest
//! with serde's own messages.

use serde::de::{Deserializer, Error as _, Unexpected};
use serde::Deserialize;

/// A whole number of type `T`.
pub fn whole<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        _ => None,
    };
    let unexpected = || match n.as_f64() {
        Some(f) => Unexpected::Float(f),
        None => Unexpected::Other("number"),
    };
    let whole = whole.ok_or_else(|| D::Error::invalid_type(unexpected(), &"an integer"))?;
    T::try_from(whole).map_err(|_| D::Error::invalid_value(unexpected(), &"an integer in range"))
}

/// The same for an optional field (absent or `null`: `None`).
pub fn optional_whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(Deserialize)]
    struct Wrapped<T: TryFrom<i64>>(#[serde(deserialize_with = "whole")] T);
    Option::<Wrapped<T>>::deserialize(d).map(|w| w.map(|Wrapped(v)| v))
}

/// The same for a field where `null` means something (use with `#[serde(default)]`):
/// absent is `None`, `null` is `Some(None)`.
pub fn nullable_whole<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    optional_whole(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional_whole")]
        n: Option<i32>,
        #[serde(deserialize_with = "super::whole")]
        port: u16,
    }

    #[test]
    fn whole_floats_count_and_fractions_do_not() {
        let b: Body = serde_json::from_str(r#"{"n": 1582.0, "port": 993}"#).unwrap();
        assert_eq!((b.n, b.port), (Some(1582), 993));
        let b: Body = serde_json::from_str(r#"{"n": null, "port": 465.0}"#).unwrap();
        assert_eq!((b.n, b.port), (None, 465));
        assert!(serde_json::from_str::<Body>(r#"{"port": 1.5}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"port": 70000}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"port": "993"}"#).is_err());
    }
}
