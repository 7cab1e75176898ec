//! [`Config`]: which backend, with which settings, in one serde-friendly
//! value that builds an `Arc<dyn CustomerUpdater>` ([`Config::build`]) or
//! a typed [`Client`] ([`Config::build_client`]).
//!
//! Each backend wires itself: its crate owns its serde config (credentials,
//! base URL, its own options and the shared [`Settings`]), its environment
//! variables and how it builds from them, all through
//! [`BackendConfig`]. The facade registers each backend with one row of
//! the registry below (`registry!`), beside its cargo feature, and knows
//! nothing else of it: from the rows come [`BACKENDS`], the [`Config`]
//! and [`Client`] variants and their per-backend methods, the crate
//! re-exports (`unibill::fusebill`) and the capability list. This follows
//! Apache OpenDAL, whose service crates each own a serde `XConfig` read
//! by one `Configurator::from_iter` and register themselves.

use std::sync::Arc;

use serde::Deserialize;
use unibill_core::builder::{BackendConfig, RedisSetting, Settings};
use unibill_core::{BackendBuilder, CustomerUpdater, Error, Result};

/// The variable naming the backend: `chartmogul`, `fusebill` or
/// `everlytic`. The others are each backend's own (its crate's
/// `builder::env`) and the shared [`Settings::ENV`].
pub const BACKEND_VAR: &str = "UNIBILL_BACKEND";

// The registry: one row per backend, the only place the facade names a
// backend. Adding one is a row here, its crate and its cargo feature.
//
// A row reads
// `name(required, ..) => Variant(ConfigType) in crate_name, feature = "name", as_name;`
// - `name`: the constructor `Config::name(required, ..)` (handed to
//   `crate_name::ConfigType::new`) and the re-export `unibill::name`;
// - `Variant`: the `Config` and `Client` variant; the crate's client type
//   is `crate_name::Variant`;
// - `ConfigType`: the crate's [`BackendConfig`];
// - `feature = "name"`: the backend's name in configs (`backend`,
//   `UNIBILL_BACKEND`, the crate's `KIND`) and its cargo feature;
// - `as_name`: the `Client` accessor.
//
// `registry!(then)` hands the rows to the macro `then`: `config_items`
// below, and the crate re-exports and capabilities in lib.rs.
#[rustfmt::skip]
macro_rules! registry {
    ($then:ident) => {
        $then! {
            chartmogul(api_key) => ChartMogul(ChartMogulConfig) in unibill_chartmogul, feature = "chartmogul", as_chartmogul;
            fusebill(api_key) => Fusebill(FusebillConfig) in unibill_fusebill, feature = "fusebill", as_fusebill;
            everlytic(base_url, username, api_key) => Everlytic(EverlyticConfig) in unibill_everlytic, feature = "everlytic", as_everlytic;
            stripe(api_key) => Stripe(StripeConfig) in unibill_stripe, feature = "stripe", as_stripe;
        }
    };
}
pub(crate) use registry;

/// Byte equality of two names, usable in a constant (the registry's check
/// that a row's name is its crate's `KIND`; unused with no backend
/// compiled in).
#[allow(dead_code)]
const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Everything of this module made from the registry's rows.
macro_rules! config_items {
    ($(
        $name:ident($($arg:ident),*) => $variant:ident($config:ident)
            in $krate:ident, feature = $feature:literal, $as_x:ident;
    )*) => {
        /// The backend names a [`Config`] may name (compiled in or not).
        pub const BACKENDS: [&str; [$($feature),*].len()] = [$($feature),*];

        // A row's name is its crate's `KIND`: configs, the environment and
        // errors all go by it, so a crate naming itself otherwise does not
        // compile.
        $(
            #[cfg(feature = $feature)]
            const _: () = assert!(
                same_name($krate::KIND.as_str(), $feature),
                concat!("the `", $feature, "` registry row names a crate whose KIND differs"),
            );
        )*

        /// Which backend to use and how to reach it: the backend's own
        /// config (its crate's [`BackendConfig`]), tagged with its name.
        ///
        /// Deserializes from a tagged object, e.g. (JSON)
        /// `{"backend": "fusebill", "api_key": "...", "settings": {"timeout": "10s"}}`;
        /// switching vendor is changing this one value.
        ///
        /// ```
        /// let config: unibill::Config = serde_json::from_str(
        ///     r#"{"backend": "chartmogul", "api_key": "secret-key"}"#,
        /// ).unwrap();
        /// assert_eq!(config.backend(), "chartmogul");
        /// assert!(!format!("{config:?}").contains("secret-key"));
        /// ```
        #[derive(Clone, Debug, Deserialize)]
        #[serde(tag = "backend")]
        #[non_exhaustive]
        pub enum Config {
            $(
                #[doc = concat!(stringify!($variant), " (`\"backend\": \"", $feature, "\"`).")]
                #[cfg(feature = $feature)]
                #[serde(rename = $feature)]
                $variant($krate::$config),
            )*
        }

        /// A client built from a [`Config`], with its type: the vendor-only calls
        /// (ChartMogul's tags and custom attributes by email, Fusebill's
        /// `find_by_reference`, raw reads, ...) stay reachable, where
        /// [`Config::build`]'s `Arc<dyn CustomerUpdater>` has only the neutral
        /// ones.
        ///
        /// ```
        /// use unibill::{Client, Config};
        ///
        /// let client = Config::fusebill("key").build_client().unwrap();
        /// let fusebill = client.as_fusebill().expect("a Fusebill client");
        /// assert_eq!(fusebill.transport().base_url(), "https://secure.fusebill.com");
        /// assert!(client.as_chartmogul().is_none());
        /// let updater = client.into_updater(); // the neutral API, as `Config::build` gives it
        /// assert_eq!(updater.kind(), unibill::fusebill::KIND);
        /// ```
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum Client {
            $(
                #[doc = concat!(stringify!($variant), " (feature `", $feature, "`).")]
                #[cfg(feature = $feature)]
                $variant($krate::$variant),
            )*
        }

        impl Config {
            $(
                #[doc = concat!(
                    "A config for ", stringify!($variant), " with default settings (`",
                    stringify!($($arg),*), "`)."
                )]
                #[cfg(feature = $feature)]
                pub fn $name($($arg: impl Into<String>),*) -> Self {
                    Config::$variant($krate::$config::new($($arg),*))
                }
            )*

            /// The backend's name.
            pub fn backend(&self) -> &'static str {
                match *self {
                    $(#[cfg(feature = $feature)] Config::$variant(_) => $feature,)*
                }
            }

            /// The shared settings.
            pub fn settings(&self) -> &Settings {
                match *self {
                    $(#[cfg(feature = $feature)] Config::$variant(ref c) => &c.common().settings,)*
                }
            }

            /// The shared settings, to change.
            pub fn settings_mut(&mut self) -> &mut Settings {
                match *self {
                    $(#[cfg(feature = $feature)] Config::$variant(ref mut c) => &mut c.common_mut().settings,)*
                }
            }

            /// The same config with another base URL (for Everlytic, the
            /// install's address).
            #[allow(unreachable_code, unused_mut, unused_variables)] // with no backend compiled in
            pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
                match self {
                    $(#[cfg(feature = $feature)] Config::$variant(ref mut c) => c.common_mut().base_url = Some(url.into()),)*
                }
                self
            }

            /// Builds the client with its type (see [`Client`]), for the
            /// vendor-only calls; otherwise as [`Config::build`].
            pub fn build_client(&self) -> Result<Client> {
                for r in REGISTRY {
                    unibill_core::patch::register_extension_key(r.0);
                }
                match *self {
                    $(#[cfg(feature = $feature)] Config::$variant(ref c) => build(c).map(Client::$variant),)*
                }
            }
        }

        impl Client {
            /// The neutral API of this client.
            pub fn updater(&self) -> &dyn CustomerUpdater {
                match *self {
                    $(#[cfg(feature = $feature)] Client::$variant(ref c) => c,)*
                }
            }

            /// The client behind the neutral API only (what [`Config::build`]
            /// returns).
            pub fn into_updater(self) -> Arc<dyn CustomerUpdater> {
                match self {
                    $(#[cfg(feature = $feature)] Client::$variant(c) => Arc::new(c),)*
                }
            }

            $(
                #[doc = concat!("The ", stringify!($variant), " client, if this is one.")]
                #[cfg(feature = $feature)]
                pub fn $as_x(&self) -> Option<&$krate::$variant> {
                    match self {
                        Client::$variant(c) => Some(c),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            )*
        }

        /// The registry: the kind, the environment reader and the
        /// placeholder config of each compiled-in backend.
        const REGISTRY: &[Registered] = &[
            $(
                #[cfg(feature = $feature)]
                (
                    $krate::KIND,
                    |vars| $krate::$config::from_map(vars).map(Config::$variant),
                    || Config::$variant(<$krate::$config as BackendConfig>::placeholder()),
                    <$krate::$config as BackendConfig>::ENV,
                ),
            )*
        ];
    };
}

registry!(config_items);

/// A compiled-in backend: its kind, its config from the environment's
/// pairs, its placeholder config and its own variables.
type Registered = (
    unibill_core::BackendKind,
    fn(&[(String, String)]) -> Result<Config>,
    fn() -> Config,
    &'static [&'static str],
);

/// The client of a backend's config: its builder, its settings, then the
/// Redis coordinator the settings name (feature `redis`).
#[allow(dead_code)] // with no backend compiled in
fn build<C: BackendConfig>(c: &C) -> Result<<C::Builder as BackendBuilder>::Client> {
    let b = c.configured();
    let Some(redis) = &c.common().settings.redis else {
        return b.build();
    };
    #[cfg(feature = "redis")]
    {
        let c = coordinator(redis)?;
        b.rate_limiter(c.rate_limiter())
            .write_locking(c.write_locking())
            .build()
    }
    #[cfg(not(feature = "redis"))]
    match coordinator(redis)? {}
}

/// The Redis coordinator of the settings (no connection is made yet);
/// errors name the field (`redis.url`, ...).
#[cfg(feature = "redis")]
fn coordinator(r: &RedisSetting) -> Result<unibill_redis::RedisCoordinator> {
    unibill_redis::RedisCoordinator::new(r.clone())
}

/// Without the `redis` feature, Redis in the settings is refused rather
/// than each process run on its own budget.
#[cfg(not(feature = "redis"))]
fn coordinator(_: &RedisSetting) -> Result<std::convert::Infallible> {
    Err(Error::config(
        "redis.url",
        "is set, but unibill was built without its `redis` cargo feature: \
         enable it, or unset it to limit and lock per process",
    ))
}

/// The registry entry of a backend name, or [`Error::Config`] naming
/// `field`: not a backend at all, or one whose cargo feature is off.
fn registered(name: &str, field: &str) -> Result<&'static Registered> {
    if let Some(r) = REGISTRY.iter().find(|r| r.0.as_str() == name) {
        return Ok(r);
    }
    Err(if BACKENDS.contains(&name) {
        Error::config(
            field,
            format!(
                "backend `{name}` is not compiled in: enable the `{name}` cargo feature of unibill"
            ),
        )
    } else {
        Error::config(
            field,
            format!("`{name}` is not one of {}", BACKENDS.join(", ")),
        )
    })
}

/// The placeholder config of every compiled-in backend (no credentials
/// that work), in registry order.
pub(crate) fn placeholders() -> Vec<Config> {
    REGISTRY.iter().map(|r| (r.2)()).collect()
}

impl Config {
    /// The same config with other settings.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        *self.settings_mut() = settings;
        self
    }

    /// Reads the config from the environment: [`BACKEND_VAR`], the
    /// backend's own variables and the shared [`Settings::ENV`].
    ///
    /// A set `UNIBILL_*` variable that unibill does not read (a misspelt
    /// `UNIBILL_RATE_LIMT`, say) is not an error, since other tools may
    /// share the prefix, but it is not silently ignored either: each one is
    /// reported with a `tracing` warning naming it and the closest
    /// variable unibill reads.
    pub fn from_env() -> Result<Self> {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        warn_unknown_vars(vars.iter().map(|(k, _)| k.as_str()));
        Self::from_map(&vars)
    }

    /// Reads the config from any name -> value lookup, with the same
    /// variables as [`Config::from_env`] (handy in tests: no process-wide
    /// environment to race on).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let names = REGISTRY.iter().flat_map(|r| r.3.iter());
        let vars: Vec<(String, String)> = [BACKEND_VAR]
            .iter()
            .chain(Settings::ENV)
            .chain(names)
            .filter_map(|name| Some((name.to_string(), lookup(name)?)))
            .collect();
        Self::from_map(&vars)
    }

    /// Reads the config from name-value pairs (blank values count as
    /// unset; variables unibill does not read are ignored). An error
    /// names the variable and says why.
    pub fn from_map(vars: &[(String, String)]) -> Result<Self> {
        let backend = vars
            .iter()
            .find(|(k, v)| k == BACKEND_VAR && !v.trim().is_empty())
            .ok_or_else(|| {
                Error::config(
                    BACKEND_VAR,
                    format!("is not set: name one of {}", BACKENDS.join(", ")),
                )
            })?
            .1
            .trim()
            .to_ascii_lowercase();
        let config = (registered(&backend, BACKEND_VAR)?.1)(vars)?;
        // Refuse a bad Redis URL or share now, naming the variable.
        if let Some(redis) = &config.settings().redis {
            coordinator(redis).map_err(|e| match e {
                Error::Config { field, reason } => Error::config(
                    format!("UNIBILL_{}", field.replace('.', "_").to_ascii_uppercase()),
                    reason,
                ),
                other => other,
            })?;
        }
        Ok(config)
    }

    /// Builds the updater. Fails with [`Error::Config`] when a setting is
    /// malformed. Makes no network call.
    ///
    /// Every backend compiled in is registered as a known extension key
    /// (see [`unibill_core::patch::register_extension_key`]), so another
    /// backend's extension in a patch is refused as unsupported, not as
    /// unknown.
    pub fn build(&self) -> Result<Arc<dyn CustomerUpdater>> {
        self.build_client().map(Client::into_updater)
    }
}

/// Warns (through `tracing`) of each name with the `UNIBILL_` prefix that
/// is not a variable unibill reads, naming the closest one that is.
fn warn_unknown_vars<'a>(names: impl IntoIterator<Item = &'a str>) {
    let known = || std::iter::once(&BACKEND_VAR).chain(Settings::ENV);
    for name in names {
        if !name.starts_with("UNIBILL_") || known().any(|k| *k == name) {
            continue;
        }
        let closest = known()
            .min_by_key(|k| edit_distance(name, k))
            .copied()
            .unwrap_or(BACKEND_VAR);
        tracing::warn!(
            variable = %name,
            closest,
            "{name} is set but is not a variable unibill reads (ignored); the closest one is {closest}"
        );
    }
}

/// The Levenshtein distance between two ASCII-ish names, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;
    #[allow(unused_imports)] // which are used depends on the backends compiled in
    use unibill_core::{ExposeSecret, RateLimit, RetryConfig, TransportConfig};

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[cfg(all(feature = "fusebill", feature = "redis"))]
    #[test]
    fn redis_url_reaches_the_client_and_its_password_is_never_shown() {
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_REDIS_URL", "redis://:hunter2-pw@127.0.0.1:6379/0"),
            ("UNIBILL_REDIS_PREFIX", "billing:"),
        ]))
        .unwrap();
        let redis = c.settings().redis.clone().unwrap();
        assert_eq!(redis.prefix.as_deref(), Some("billing:"));
        assert_eq!(redis.fallback_share, None, "fail closed unless asked");
        let updater = c.build().unwrap();
        let locks = format!("{:?}", updater.locks());
        assert!(locks.contains("RedisLock"), "{locks}");
        for text in [locks, format!("{c:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        for (var, value) in [
            ("UNIBILL_REDIS_URL", "http://127.0.0.1:6379"),
            ("UNIBILL_REDIS_FALLBACK_SHARE", "2"),
            ("UNIBILL_REDIS_FALLBACK_SHARE", "half"),
        ] {
            let mut pairs = vec![
                ("UNIBILL_BACKEND", "fusebill"),
                ("FUSEBILL_API_KEY", "k"),
                ("UNIBILL_REDIS_URL", "redis://127.0.0.1:6379"),
            ];
            pairs.retain(|(k, _)| *k != var);
            pairs.push((var, value));
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(format!("{e}").contains(var), "{var}={value}: {e}");
        }
        let file: Config = serde_json::from_value(serde_json::json!({
            "backend": "fusebill", "api_key": "k",
            "settings": {"redis": {"url": "rediss://:pw@cache.example:6380", "fallback_share": 0.25}}
        }))
        .unwrap();
        assert!(file.build().is_ok());
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("UNIBILL_RATE_LIMT", "UNIBILL_RATE_LIMIT"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    /// A misspelt `UNIBILL_` variable is reported with a warning naming it
    /// and the variable meant; known variables and other prefixes are not.
    #[test]
    fn unknown_unibill_variables_are_warned_of_with_the_closest_known_one() {
        #[derive(Clone, Default)]
        struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            // Through the environment: a name no other test sets.
            std::env::set_var("UNIBILL_MAX_ATEMPTS", "3");
            let _ = Config::from_env();
            std::env::remove_var("UNIBILL_MAX_ATEMPTS");
            warn_unknown_vars([
                "UNIBILL_RATE_LIMT",
                "UNIBILL_LOCK_WAITS",
                "UNIBILL_RATE_LIMIT",
                "UNIBILL_LOCK_WAIT_SECS",
                "UNIBILL_BACKEND",
                "FUSEBILL_API_KEY",
                "PATH",
            ])
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let (from_env, lines): (Vec<&str>, Vec<&str>) = out
            .lines()
            // Only the warnings about the names set here: the process may
            // have other UNIBILL_ variables (CI sets UNIBILL_BENCH_QUICK).
            .filter(|l| {
                [
                    "UNIBILL_MAX_ATEMPTS",
                    "UNIBILL_RATE_LIMT",
                    "UNIBILL_LOCK_WAITS",
                ]
                .iter()
                .any(|name| l.contains(&format!("variable={name} ")))
            })
            .partition(|l| l.contains("UNIBILL_MAX_ATEMPTS"));
        assert_eq!(from_env.len(), 1, "{out}");
        assert!(
            from_env[0].contains("the closest one is UNIBILL_MAX_ATTEMPTS"),
            "{out}"
        );
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].contains("WARN"), "{out}");
        assert!(
            lines[0].contains("UNIBILL_RATE_LIMT is set but is not a variable unibill reads")
                && lines[0].contains("the closest one is UNIBILL_RATE_LIMIT"),
            "{out}"
        );
        assert!(
            lines[1].contains("UNIBILL_LOCK_WAITS ")
                && lines[1].contains("the closest one is UNIBILL_LOCK_WAIT"),
            "{out}"
        );
    }

    /// A config with a fractional number in every number setting, as
    /// JSON text, JSON bytes, a JSON file, a JSON value and TOML: all five
    /// parse to the same settings.
    #[cfg(feature = "fusebill")]
    #[test]
    fn fractional_numbers_parse_the_same_in_every_format() {
        let json = serde_json::json!({
            "backend": "fusebill",
            "api_key": "k",
            "settings": {
                "timeout_secs": 2.5,
                "connect_timeout_secs": 1.25,
                "retry_deadline_secs": 7.5,
                "max_retry_after_secs": 3.5,
                "lock_wait_secs": 0.5,
                "lookup_deadline_secs": 12.5,
                "max_attempts": 3,
                "initial_backoff": 0.02,
                "rate_limit": {"requests": 3, "per_secs": 1.5}
            }
        });
        #[cfg(feature = "redis")]
        let json = {
            let mut json = json;
            json["settings"]["redis"] = serde_json::json!(
                {"url": "redis://127.0.0.1:6379", "fallback_share": 0.25, "lease_secs": 2.5}
            );
            json
        };
        #[cfg(not(feature = "redis"))]
        let redis_toml = "";
        #[cfg(feature = "redis")]
        let redis_toml = "[settings.redis]\nurl = \"redis://127.0.0.1:6379\"\nfallback_share = 0.25\nlease_secs = 2.5\n";
        let toml_text = format!(
            "backend = \"fusebill\"\napi_key = \"k\"\n[settings]\ntimeout_secs = 2.5\n\
             connect_timeout_secs = 1.25\nretry_deadline_secs = 7.5\nmax_retry_after_secs = 3.5\n\
             lock_wait_secs = 0.5\nlookup_deadline_secs = 12.5\nmax_attempts = 3\ninitial_backoff = \"20ms\"\n\
             rate_limit = {{ requests = 3, per_secs = 1.5 }}\n{redis_toml}"
        );
        let text = json.to_string();
        let path = std::env::temp_dir().join(format!("unibill-config-{}.json", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let parsed: Vec<(&str, std::result::Result<Config, String>)> = vec![
            (
                "JSON text",
                serde_json::from_str::<Config>(&text).map_err(|e| e.to_string()),
            ),
            (
                "JSON bytes",
                serde_json::from_slice::<Config>(text.as_bytes()).map_err(|e| e.to_string()),
            ),
            (
                "JSON file",
                serde_json::from_reader::<_, Config>(std::io::BufReader::new(file))
                    .map_err(|e| e.to_string()),
            ),
            (
                "JSON value",
                serde_json::from_value::<Config>(json.clone()).map_err(|e| e.to_string()),
            ),
            (
                "TOML",
                toml::from_str::<Config>(&toml_text).map_err(|e| e.to_string()),
            ),
        ];
        let _ = std::fs::remove_file(&path);
        #[allow(unused_mut)] // without the `redis` feature
        let mut expected = Settings {
            timeout: Duration::from_secs_f64(2.5),
            connect_timeout: Duration::from_secs_f64(1.25),
            lock_wait: Duration::from_millis(500),
            rate_limit: Some(Some(RateLimit {
                requests: 3,
                per: Duration::from_millis(1500),
            })),
            retry: RetryConfig {
                deadline: Duration::from_secs_f64(7.5),
                max_retry_after: Duration::from_secs_f64(3.5),
                max_attempts: 3,
                initial_backoff: Duration::from_millis(20),
                ..RetryConfig::default()
            },
            lookup_deadline: Some(Duration::from_secs_f64(12.5)),
            ..Settings::default()
        };
        #[cfg(feature = "redis")]
        {
            let mut redis = RedisSetting::new("redis://127.0.0.1:6379");
            redis.fallback_share = Some(0.25);
            redis.lease = Some(Duration::from_millis(2500));
            expected.redis = Some(redis);
        }
        for (format, config) in parsed {
            let config = config.unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(config.settings(), &expected, "{format}");
            let client = config
                .build_client()
                .unwrap_or_else(|e| panic!("{format}: {e}"));
            let t = client.as_fusebill().unwrap().transport().config().clone();
            assert_eq!(t.request_timeout, Duration::from_millis(2500), "{format}");
            assert_eq!(t.lock_wait, Duration::from_millis(500), "{format}");
            assert_eq!(
                t.rate_limit,
                Some(RateLimit {
                    requests: 3,
                    per: Duration::from_millis(1500)
                }),
                "{format}"
            );
        }
    }

    #[cfg(all(feature = "fusebill", not(feature = "redis")))]
    #[test]
    fn a_redis_url_without_the_feature_is_refused_not_ignored() {
        let e = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_REDIS_URL", "redis://127.0.0.1:6379"),
        ]))
        .unwrap_err();
        assert!(format!("{e}").contains("UNIBILL_REDIS_URL"), "{e}");
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn lock_wait_reaches_the_client() {
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_LOCK_WAIT_SECS", "2.5"),
        ]))
        .unwrap();
        assert_eq!(c.settings().lock_wait, Duration::from_millis(2500));
        let updater = c.build().unwrap();
        assert_eq!(updater.locks().wait(), Duration::from_millis(2500));
        let default = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(default.locks().wait(), crate::lock::DEFAULT_LOCK_WAIT);
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn lookup_deadline_reaches_the_client() {
        let deadline = |pairs: &[(&str, &str)]| {
            let mut all = vec![("UNIBILL_BACKEND", "fusebill"), ("FUSEBILL_API_KEY", "k")];
            all.extend_from_slice(pairs);
            let client = Config::from_lookup(lookup(&all))
                .unwrap()
                .build_client()
                .unwrap();
            client.as_fusebill().unwrap().transport().lookup_deadline()
        };
        assert_eq!(
            deadline(&[("UNIBILL_LOOKUP_DEADLINE_SECS", "2.5")]),
            Duration::from_millis(2500)
        );
        // Default: five retry deadlines.
        assert_eq!(deadline(&[]), Duration::from_secs(300));
        assert_eq!(
            deadline(&[("UNIBILL_RETRY_DEADLINE_SECS", "10")]),
            Duration::from_secs(50)
        );
        let e = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_LOOKUP_DEADLINE_SECS", "0"),
        ]))
        .unwrap_err();
        assert!(
            format!("{e}").contains("UNIBILL_LOOKUP_DEADLINE_SECS"),
            "{e}"
        );
        let file: Config = serde_json::from_value(serde_json::json!({
            "backend": "fusebill", "api_key": "k",
            "settings": {"lookup_deadline_secs": 7}
        }))
        .unwrap();
        let client = file.build_client().unwrap();
        assert_eq!(
            client.as_fusebill().unwrap().transport().lookup_deadline(),
            Duration::from_secs(7)
        );
        let e = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_LOOKUP_DEADLINE", "soon"),
        ]))
        .unwrap_err();
        assert!(format!("{e}").contains("UNIBILL_LOOKUP_DEADLINE"), "{e}");
        assert_eq!(
            deadline(&[("UNIBILL_LOOKUP_DEADLINE", "1m")]),
            Duration::from_secs(60)
        );
    }

    #[cfg(all(feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn env_names_backend_and_keys() {
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k=="),
        ]))
        .unwrap();
        match &c {
            Config::Fusebill(f) => {
                assert_eq!(f.api_key.expose_secret(), "k==");
                assert_eq!(f.common.base_url, None);
            }
            other => panic!("{other:?}"),
        }
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "Everlytic"),
            ("EVERLYTIC_URL", "https://mail.example.com"),
            ("EVERLYTIC_USERNAME", "u"),
            ("EVERLYTIC_API_KEY", "k"),
            ("UNIBILL_RATE_LIMIT", "10/s"),
            ("UNIBILL_MAX_ATTEMPTS", "2"),
        ]))
        .unwrap();
        assert_eq!(c.backend(), "everlytic");
        assert_eq!(
            c.settings().rate_limit,
            Some(Some(RateLimit::per_second(10)))
        );
        assert_eq!(c.settings().retry.max_attempts, 2);
    }

    #[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn env_errors_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "UNIBILL_BACKEND"),
            (&[("UNIBILL_BACKEND", "acme")], "UNIBILL_BACKEND"),
            (&[("UNIBILL_BACKEND", "chartmogul")], "CHARTMOGUL_API_KEY"),
            (
                &[
                    ("UNIBILL_BACKEND", "chartmogul"),
                    ("CHARTMOGUL_API_KEY", " "),
                ],
                "CHARTMOGUL_API_KEY",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "everlytic"),
                    ("EVERLYTIC_USERNAME", "u"),
                    ("EVERLYTIC_API_KEY", "k"),
                ],
                "EVERLYTIC_URL",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_RATE_LIMIT", "fast"),
                ],
                "UNIBILL_RATE_LIMIT",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_TIMEOUT_SECS", "-1"),
                ],
                "UNIBILL_TIMEOUT_SECS",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_MAX_ATTEMPTS", "0"),
                ],
                "UNIBILL_MAX_ATTEMPTS",
            ),
            (
                &[
                    ("UNIBILL_BACKEND", "fusebill"),
                    ("FUSEBILL_API_KEY", "k"),
                    ("UNIBILL_LOCK_WAIT_SECS", "0"),
                ],
                "UNIBILL_LOCK_WAIT_SECS",
            ),
        ];
        for (pairs, var) in cases {
            match Config::from_lookup(lookup(pairs)) {
                Err(Error::Config { field, .. }) => assert_eq!(field, *var, "{pairs:?}"),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn env_errors_say_what_is_missing() {
        let reason = |pairs: &[(&str, &str)]| match Config::from_lookup(lookup(pairs)) {
            Err(Error::Config { reason, .. }) => reason,
            other => panic!("{pairs:?}: {other:?}"),
        };
        let r = reason(&[]);
        assert!(r.contains("chartmogul, fusebill, everlytic"), "{r}");
        let r = reason(&[("UNIBILL_BACKEND", " Fusebill ")]);
        assert!(r.contains("`fusebill`"), "{r}");
    }

    #[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn debug_never_shows_keys() {
        for c in [
            Config::chartmogul("cm-secret-1"),
            Config::fusebill("fb-secret-2"),
            Config::everlytic("https://x.example", "user", "ev-secret-3"),
        ] {
            let d = format!("{c:?} {c:#?}");
            assert!(!d.contains("secret"), "{d}");
            assert!(d.contains("REDACTED"), "{d}");
        }
        // Nor a key put in a base URL by mistake.
        for c in [
            Config::chartmogul("k").with_base_url("https://cm-secret:@api.example.com"),
            Config::fusebill("k").with_base_url("https://api.example.com/?key=fb-secret"),
            Config::everlytic("https://u:ev-secret@x.example", "user", "k"),
        ] {
            let d = format!("{c:?}");
            assert!(!d.contains("secret"), "{d}");
        }
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn serde_config_with_settings() {
        let c: Config = serde_json::from_str(
            r#"{"backend":"fusebill","api_key":"k","settings":{"timeout_secs":5,"rate_limit":null}}"#,
        )
        .unwrap();
        assert_eq!(c.settings().rate_limit, Some(None));
        assert_eq!(c.settings().timeout, Duration::from_secs(5));
        assert_eq!(
            c.settings().connect_timeout,
            TransportConfig::default().connect_timeout
        );
        assert_eq!(c.settings().retry, RetryConfig::default());
        assert!(serde_json::from_str::<Config>(
            r#"{"backend":"fusebill","api_key":"k","apikey":"x"}"#
        )
        .is_err());
        assert!(serde_json::from_str::<Config>(r#"{"backend":"paypal","api_key":"k"}"#).is_err());
    }

    #[cfg(feature = "chartmogul")]
    #[test]
    fn readme_config_file_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("`{\"backend\": \"chartmogul\"")
            .expect("example in README")
            + 1;
        let end = start + readme[start..].find('`').expect("closing backtick");
        let c: Config = serde_json::from_str(&readme[start..end]).unwrap();
        let s = c.settings();
        assert_eq!(s.retry.max_attempts, 3);
        assert_eq!(s.rate_limit, Some(Some(RateLimit::per_second(40))));
    }

    fn settings(json: &str) -> std::result::Result<Settings, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[cfg(feature = "chartmogul")]
    #[test]
    fn serde_rate_limit_takes_the_text_forms_too() {
        let limit = |json: &str| settings(json).unwrap().rate_limit;
        assert_eq!(limit(r#"{}"#), None);
        assert_eq!(limit(r#"{"rate_limit":null}"#), Some(None));
        assert_eq!(limit(r#"{"rate_limit":"off"}"#), Some(None));
        assert_eq!(
            limit(r#"{"rate_limit":"40/s"}"#),
            Some(Some(RateLimit::per_second(40)))
        );
        assert_eq!(
            limit(r#"{"rate_limit":"5000/day"}"#),
            Some(Some(RateLimit {
                requests: 5000,
                per: Duration::from_secs(86400)
            }))
        );
        assert_eq!(
            limit(r#"{"rate_limit":{"requests":1000,"per_secs":60}}"#),
            Some(Some(RateLimit::per_minute(1000)))
        );
        // Inside a tagged config too (buffered before it is read).
        let c: Config = serde_json::from_str(
            r#"{"backend":"chartmogul","api_key":"k","settings":{"rate_limit":"1000/min"}}"#,
        )
        .unwrap();
        assert_eq!(
            c.settings().rate_limit,
            Some(Some(RateLimit::per_minute(1000)))
        );
        // Malformed text or objects are refused, saying what is wrong.
        let e = settings(r#"{"rate_limit":"fast"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`fast`") && e.contains("40/s"), "{e}");
        let e = settings(r#"{"rate_limit":{"requests":5,"every":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("every"), "{e}");
        assert_eq!(
            limit(r#"{"rate_limit":{"requests":5,"per":"1s"}}"#),
            Some(Some(RateLimit::per_second(5)))
        );
        assert!(settings(r#"{"rate_limit":5}"#).is_err());
        assert!(settings(r#"{"rate_limit":"0/s"}"#).is_err());
    }

    #[test]
    fn initial_backoff_is_not_cut_by_the_default_cap() {
        let r = settings(r#"{"initial_backoff":"10s"}"#).unwrap().retry;
        assert_eq!(r.initial_backoff, Duration::from_secs(10));
        assert_eq!(r.backoff_ceiling(0), Duration::from_secs(10));
        // A small one leaves the default cap alone.
        let r = settings(r#"{"initial_backoff":"10ms"}"#).unwrap().retry;
        assert_eq!(r.max_backoff, RetryConfig::default().max_backoff);
        assert_eq!(r.backoff_ceiling(20), r.max_backoff);
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn unknown_fields_are_named() {
        let e =
            serde_json::from_str::<Config>(r#"{"backend":"fusebill","api_key":"k","apikey":"x"}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("`apikey`"), "{e}");
        let e = serde_json::from_str::<Config>(
            r#"{"backend":"fusebill","api_key":"k","settings":{"timeout_sec":5}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`timeout_sec`"), "{e}");
    }

    #[test]
    fn a_backend_not_compiled_in_is_a_config_error_naming_its_feature() {
        for name in BACKENDS {
            let compiled = REGISTRY.iter().any(|r| r.0.as_str() == name);
            match Config::from_lookup(lookup(&[("UNIBILL_BACKEND", name)])) {
                Err(Error::Config { field, reason }) if !compiled => {
                    assert_eq!(field, "UNIBILL_BACKEND");
                    assert!(
                        reason.contains(&format!("`{name}` cargo feature")),
                        "{reason}"
                    );
                }
                // Compiled in: it goes on to ask for its credentials.
                Err(Error::Config { field, .. }) => {
                    assert!(compiled && field != "UNIBILL_BACKEND", "{name}: {field}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// Settings reach the client; what they do not name keeps the
    /// backend's default (ChartMogul: its 40 per 1.02 s limit).
    #[cfg(feature = "chartmogul")]
    #[test]
    fn settings_reach_the_client_and_keep_backend_defaults() {
        let build = |json: &str| {
            let c = Config::chartmogul("k").with_settings(settings(json).unwrap());
            format!("{:?}", c.build().unwrap())
        };
        let default_limit = format!("{:?}", Some(unibill_chartmogul::DEFAULT_RATE_LIMIT));
        let d = build(r#"{"timeout":"7s","max_attempts":2}"#);
        assert!(d.contains("request_timeout: 7s"), "{d}");
        assert!(d.contains("max_attempts: 2"), "{d}");
        assert!(d.contains(&format!("rate_limit: {default_limit}")), "{d}");
        let d = build(r#"{"rate_limit":"off"}"#);
        assert!(d.contains("rate_limit: None"), "{d}");
        assert!(d.contains("max_attempts: 4"), "{d}");
        let d = build(r#"{"rate_limit":"10/s"}"#);
        assert!(
            d.contains(&format!(
                "rate_limit: {:?}",
                Some(RateLimit::per_second(10))
            )),
            "{d}"
        );
        // The response cap and user agent, from the environment as from
        // a file.
        let from_env = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "chartmogul"),
            ("CHARTMOGUL_API_KEY", "k"),
            ("UNIBILL_MAX_RESPONSE_BYTES", "65536"),
            ("UNIBILL_USER_AGENT", "billing-sync/3"),
        ]))
        .unwrap();
        let d = build(r#"{"max_response_bytes":65536,"user_agent":"billing-sync/3"}"#);
        for d in [d, format!("{:?}", from_env.build().unwrap())] {
            assert!(d.contains("max_response_bytes: 65536"), "{d}");
            assert!(d.contains(r#"user_agent: "billing-sync/3""#), "{d}");
        }
        match Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "chartmogul"),
            ("CHARTMOGUL_API_KEY", "k"),
            ("UNIBILL_MAX_RESPONSE_BYTES", "0"),
        ])) {
            Err(Error::Config { field, .. }) => assert_eq!(field, "UNIBILL_MAX_RESPONSE_BYTES"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(feature = "fusebill")]
    #[test]
    fn retry_settings_reach_the_client_from_env_and_file() {
        let from_env = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("UNIBILL_MAX_ATTEMPTS", "6"),
            ("UNIBILL_INITIAL_BACKOFF", "50ms"),
            ("UNIBILL_MAX_BACKOFF", "0.9"),
            ("UNIBILL_RETRY_DEADLINE_SECS", "42"),
            ("UNIBILL_MAX_RETRY_AFTER_SECS", "7.5"),
        ]))
        .unwrap();
        let from_file: Config = serde_json::from_value(serde_json::json!({
            "backend": "fusebill", "api_key": "k",
            "settings": {
                "max_attempts": 6, "initial_backoff": "50ms", "max_backoff": "900ms",
                "retry_deadline_secs": 42, "max_retry_after_secs": 7.5
            }
        }))
        .unwrap();
        let expected = RetryConfig {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(900),
            deadline: Duration::from_secs(42),
            max_retry_after: Duration::from_millis(7500),
        };
        for c in [from_env, from_file] {
            let client = c.build_client().unwrap();
            let fusebill = client.as_fusebill().expect("a Fusebill client");
            assert_eq!(fusebill.transport().config().retry, expected, "{c:?}");
        }
        // The same policy, given as a value in the settings.
        let s = Settings {
            retry: expected.clone(),
            ..Settings::default()
        };
        let built = Config::fusebill("k")
            .with_settings(s)
            .build_client()
            .unwrap();
        assert_eq!(
            built.as_fusebill().unwrap().transport().config().retry,
            expected
        );
        for (var, value) in [
            ("UNIBILL_INITIAL_BACKOFF", "soon"),
            ("UNIBILL_MAX_BACKOFF", "-5"),
            ("UNIBILL_RETRY_DEADLINE_SECS", "0"),
            ("UNIBILL_MAX_RETRY_AFTER_SECS", "x"),
        ] {
            match Config::from_lookup(lookup(&[
                ("UNIBILL_BACKEND", "fusebill"),
                ("FUSEBILL_API_KEY", "k"),
                (var, value),
            ])) {
                Err(Error::Config { field, .. }) => assert_eq!(field, var, "{value}"),
                other => panic!("{var}={value}: {other:?}"),
            }
        }
    }

    #[cfg(all(feature = "fusebill", feature = "everlytic", feature = "chartmogul"))]
    #[test]
    fn conflict_check_is_set_through_config_and_refused_where_it_means_nothing() {
        let shown = |c: &Config| format!("{:?}", c.build_client().unwrap());
        let env = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("FUSEBILL_CONFLICT_CHECK", "off"),
        ]))
        .unwrap();
        assert!(shown(&env).contains("conflict: Off"), "{}", shown(&env));
        let default = shown(&Config::fusebill("k"));
        assert!(
            default.contains("conflict: Reread { max_rounds: 3 }"),
            "{default}"
        );
        let file: Config = serde_json::from_value(serde_json::json!({
            "backend": "everlytic", "base_url": "https://mail.example.com",
            "username": "u", "api_key": "k", "conflict_check": "reread:5"
        }))
        .unwrap();
        match &file {
            Config::Everlytic(e) => {
                assert_eq!(
                    e.conflict_check,
                    unibill_core::ConflictCheck::Reread { max_rounds: 5 }
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(file.build().is_ok());
        // ChartMogul writes with PATCH and reads nothing first: refused,
        // naming the key, rather than ignored.
        let e = serde_json::from_str::<Config>(
            r#"{"backend":"chartmogul","api_key":"k","conflict_check":"off"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`conflict_check`"), "{e}");
        // Malformed values name the variable or the key.
        match Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "fusebill"),
            ("FUSEBILL_API_KEY", "k"),
            ("FUSEBILL_CONFLICT_CHECK", "sometimes"),
        ])) {
            Err(Error::Config { field, reason }) => {
                assert_eq!(field, "FUSEBILL_CONFLICT_CHECK");
                assert!(reason.contains("`sometimes`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let e = serde_json::from_str::<Config>(
            r#"{"backend":"fusebill","api_key":"k","conflict_check":"reread:0"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`reread:0`"), "{e}");
    }

    /// Zero and negative durations are refused as the settings are read,
    /// naming the key; a limit of zero requests too. What code sets
    /// directly is judged by the transport, which names its setting.
    #[cfg(feature = "chartmogul")]
    #[test]
    fn zero_durations_are_refused_naming_the_key() {
        for (json, key) in [
            (r#"{"timeout_secs":0}"#, "`0`"),
            (r#"{"connect_timeout":"0s"}"#, "`0s`"),
            (r#"{"lock_wait_secs":-1}"#, "`-1`"),
            (r#"{"rate_limit":{"requests":0,"per_secs":1}}"#, "40/s"),
            (r#"{"rate_limit":{"requests":5,"per_secs":0}}"#, "`0`"),
        ] {
            let e = settings(json).unwrap_err().to_string();
            assert!(e.contains(key), "{json}: {e}");
        }
        let s = Settings {
            lock_wait: Duration::ZERO,
            ..Settings::default()
        };
        match Config::chartmogul("k").with_settings(s).build() {
            Err(Error::Config { field, .. }) => assert_eq!(field, "lock_wait"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn build_client_gives_typed_access_and_the_same_updater() {
        let cm = Config::chartmogul("k").build_client().unwrap();
        assert!(cm.as_chartmogul().is_some());
        assert!(cm.as_fusebill().is_none() && cm.as_everlytic().is_none());
        assert_eq!(cm.updater().kind(), unibill_chartmogul::KIND);
        let ev = Config::everlytic("https://mail.example.com", "u", "k")
            .build_client()
            .unwrap();
        assert_eq!(
            ev.as_everlytic().unwrap().base_url(),
            "https://mail.example.com"
        );
        assert!(ev.as_chartmogul().is_none());
        let updater = ev.into_updater();
        assert_eq!(updater.kind(), unibill_everlytic::KIND);
        let fb = Config::fusebill("k").build_client().unwrap();
        assert!(matches!(fb, Client::Fusebill(_)));
        assert_eq!(
            format!("{:?}", fb.updater().capabilities()),
            format!(
                "{:?}",
                Config::fusebill("k").build().unwrap().capabilities()
            )
        );
    }

    /// The registry reads each backend's own variables.
    #[cfg(all(feature = "chartmogul", feature = "fusebill", feature = "everlytic"))]
    #[test]
    fn registry_covers_every_backend_with_the_crates_own_variables() {
        let names: Vec<&str> = REGISTRY.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(names, BACKENDS);
        for r in REGISTRY {
            let c = (r.2)();
            assert_eq!(c.backend(), r.0.as_str());
            assert_eq!(c.build().unwrap().kind(), r.0);
            assert!(r
                .3
                .iter()
                .all(|v| v.starts_with(&r.0.as_str().to_ascii_uppercase())));
        }
        let c = Config::from_lookup(lookup(&[
            ("UNIBILL_BACKEND", "chartmogul"),
            ("CHARTMOGUL_API_KEY", "k"),
            ("CHARTMOGUL_BASE_URL", "http://127.0.0.1:9"),
        ]))
        .unwrap();
        let client = c.build_client().unwrap();
        let shown = format!("{:?}", client.as_chartmogul().unwrap());
        assert!(shown.contains("http://127.0.0.1:9"), "{shown}");
    }

    /// The facade names a backend in its registry row only: adding one
    /// is its crate, its cargo feature and that row (no restated
    /// variables, section types or hand lists).
    #[test]
    fn the_facade_names_each_backend_in_its_registry_row_only() {
        for (file, text) in [
            ("config.rs", include_str!("config.rs")),
            ("lib.rs", include_str!("lib.rs")),
        ] {
            let production = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            for name in BACKENDS {
                let lines: Vec<&str> = production
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.starts_with("//") && l.to_ascii_lowercase().contains(name))
                    .collect();
                let rows = usize::from(file == "config.rs");
                assert_eq!(lines.len(), rows, "{file} names {name}: {lines:#?}");
                assert!(
                    lines
                        .iter()
                        .all(|l| l.contains(&format!("feature = \"{name}\""))),
                    "{lines:#?}"
                );
            }
        }
    }
}
