//! Stripe's form encoding: `application/x-www-form-urlencoded` pairs whose
//! keys nest with brackets (`address[city]=Paris`, `metadata[plan]=gold`,
//! `invoice_settings[custom_fields][0][name]=PO`), lists as
//! `preferred_locales[]=fr` or `preferred_locales[0]=fr`, as the "Make
//! requests" and "Metadata" pages show them and the official SDKs encode
//! them (stripe-python `_api_requestor._encode_nested_dict`).
//!
//! A key under `metadata` is everything between the first `[` and the
//! last `]`, so that a key holding a bracket reaches the metadata rule
//! (which refuses it) instead of being split.

/// A decoded parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Param {
    /// A plain value (`""` is Stripe's "clear this").
    Str(String),
    /// A hash, in the order its keys were first sent. Lists sent with
    /// explicit indexes (`[0]`, `[1]`) arrive as a hash of those indexes.
    Map(Vec<(String, Param)>),
    /// A list sent with empty brackets (`[]`).
    List(Vec<Param>),
}

impl Param {
    /// The entries of a list, whether sent as `[]` or as `[0]`, `[1]`, ...
    /// (in index order); `None` for a plain value or a hash with keys
    /// other than indexes.
    pub(super) fn as_list(&self) -> Option<Vec<&Param>> {
        match self {
            Param::List(items) => Some(items.iter().collect()),
            Param::Map(entries) => {
                let mut indexed = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    indexed.push((k.parse::<usize>().ok()?, v));
                }
                indexed.sort_by_key(|(i, _)| *i);
                Some(indexed.into_iter().map(|(_, v)| v).collect())
            }
            Param::Str(_) => None,
        }
    }
}

/// Why a body could not be turned into parameters: the key that could not
/// be read (an unclosed bracket), or that was sent both as a value and as
/// a hash or list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FormError {
    /// A key whose brackets do not close.
    Malformed(String),
    /// A key sent with two shapes (`name=a&name[x]=b`).
    Conflict(String),
}

/// The path of a key: its name, then each bracketed part.
fn path(key: &str) -> Result<Vec<String>, FormError> {
    let Some(open) = key.find('[') else {
        return Ok(vec![key.to_string()]);
    };
    let base = &key[..open];
    let rest = &key[open..];
    if base.is_empty() || !rest.ends_with(']') {
        return Err(FormError::Malformed(key.to_string()));
    }
    if base == "metadata" {
        return Ok(vec![base.to_string(), rest[1..rest.len() - 1].to_string()]);
    }
    let mut parts = vec![base.to_string()];
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '[' {
            return Err(FormError::Malformed(key.to_string()));
        }
        let mut part = String::new();
        loop {
            match chars.next() {
                Some(']') => break,
                Some('[') | None => return Err(FormError::Malformed(key.to_string())),
                Some(ch) => part.push(ch),
            }
        }
        parts.push(part);
    }
    Ok(parts)
}

fn insert(
    entries: &mut Vec<(String, Param)>,
    path: &[String],
    value: String,
    key: &str,
) -> Result<(), FormError> {
    let conflict = || FormError::Conflict(key.to_string());
    let Some((name, rest)) = path.split_first() else {
        return Err(conflict());
    };
    let at = match entries.iter().position(|(k, _)| k == name) {
        Some(at) => at,
        None => {
            let fresh = match rest.first().map(String::as_str) {
                None => Param::Str(String::new()),
                Some("") => Param::List(Vec::new()),
                Some(_) => Param::Map(Vec::new()),
            };
            entries.push((name.clone(), fresh));
            entries.len() - 1
        }
    };
    let slot = &mut entries[at].1;
    match (slot, rest) {
        (Param::Str(s), []) => {
            // The last value sent wins, as in a form's usual reading.
            *s = value;
            Ok(())
        }
        (Param::List(items), [empty]) if empty.is_empty() => {
            items.push(Param::Str(value));
            Ok(())
        }
        (Param::Map(inner), [next, ..]) if !next.is_empty() => insert(inner, rest, value, key),
        _ => Err(conflict()),
    }
}

/// Parameters by name, in the order first sent.
pub(super) type Params = Vec<(String, Param)>;
/// Decoded `key=value` pairs, as sent.
pub(super) type Pairs = Vec<(String, String)>;

/// Reads form-encoded `bytes` (a body or a query string) into its
/// parameters, in the order first sent, and the decoded pairs as sent.
pub(super) fn parse(bytes: &[u8]) -> Result<(Params, Pairs), FormError> {
    let mut params = Vec::new();
    let mut pairs = Vec::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        if k.is_empty() && v.is_empty() {
            continue;
        }
        let key = k.into_owned();
        let value = v.into_owned();
        insert(&mut params, &path(&key)?, value.clone(), &key)?;
        pairs.push((key, value));
    }
    Ok((params, pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Param {
        Param::Str(v.to_string())
    }

    #[test]
    fn nested_keys_lists_and_clears() {
        let (params, pairs) = parse(
            b"name=Ann+Lee&address[city]=Paris&address[line1]=1%20Rue&metadata[plan]=gold&metadata[old]=&preferred_locales[]=fr&preferred_locales[]=en&invoice_settings[custom_fields][1][name]=B&invoice_settings[custom_fields][0][name]=A&email=",
        )
        .unwrap();
        assert_eq!(pairs.len(), 10);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("name"), s("Ann Lee"));
        assert_eq!(get("email"), s(""));
        assert_eq!(
            get("address"),
            Param::Map(vec![
                ("city".into(), s("Paris")),
                ("line1".into(), s("1 Rue"))
            ])
        );
        assert_eq!(
            get("metadata"),
            Param::Map(vec![("plan".into(), s("gold")), ("old".into(), s(""))])
        );
        assert_eq!(
            get("preferred_locales").as_list().unwrap(),
            vec![&s("fr"), &s("en")]
        );
        let Param::Map(settings) = get("invoice_settings") else {
            panic!()
        };
        let fields = settings[0].1.as_list().unwrap();
        assert_eq!(fields[0], &Param::Map(vec![("name".into(), s("A"))]));
        let (indexed, _) = parse(b"preferred_locales[1]=en&preferred_locales[0]=fr").unwrap();
        assert_eq!(indexed[0].1.as_list().unwrap(), vec![&s("fr"), &s("en")]);
        assert!(s("x").as_list().is_none());
        assert!(Param::Map(vec![("a".into(), s("x"))]).as_list().is_none());
    }

    #[test]
    fn metadata_keys_keep_their_brackets_and_bad_keys_are_refused() {
        let (params, _) = parse(b"metadata[a[b]]=1").unwrap();
        assert_eq!(params[0].1, Param::Map(vec![("a[b]".into(), s("1"))]));
        assert_eq!(
            parse(b"address[city=x"),
            Err(FormError::Malformed("address[city".into()))
        );
        assert_eq!(parse(b"[x]=1"), Err(FormError::Malformed("[x]".into())));
        assert_eq!(
            parse(b"name=a&name[x]=b"),
            Err(FormError::Conflict("name[x]".into()))
        );
        assert_eq!(
            parse(b"a[][b]=1"),
            Err(FormError::Conflict("a[][b]".into()))
        );
        // Repeated plain values: the last one wins.
        let (params, _) = parse(b"name=a&name=b").unwrap();
        assert_eq!(params, vec![("name".to_string(), s("b"))]);
    }
}
