//! [`Customer`]: the neutral read model.

use serde::Serialize;
use serde_json::Value;

use crate::field::neutral_table;
use crate::kind::CustomerId;

/// Generates [`Customer`] and its groups from the table's `customer` and
/// `groups` parts.
macro_rules! customer_model {
    (customer [$({[$(#[$cm:meta])*] $cf:ident ($($cty:tt)*)})*] patch [$($p:tt)*]
     groups [$({[$(#[$gm:meta])*] $g:ident $G:ident $GP:ident
        [$({[$(#[$m:meta])*] $f:ident $kind:ident})*]})*]
     fields [$($fl:tt)*]) => {
        $(
            $(#[$gm])*
            #[derive(Clone, Debug, Default, PartialEq, Serialize)]
            #[non_exhaustive]
            pub struct $G {
                $( $(#[$m])* pub $f: neutral_table!(@read $kind), )*
            }
        )*

        /// A customer as a vendor holds it, in neutral form, with the
        /// vendor's whole answer in [`Customer::raw`] so nothing the model
        /// does not cover is lost.
        ///
        /// Fields a backend cannot read stay `None`/empty; see the
        /// backend's [`crate::Capabilities`].
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[non_exhaustive]
        pub struct Customer {
            /// The vendor's id.
            pub id: CustomerId,
            $( $(#[$cm])* pub $cf: $($cty)*, )*
            /// The vendor's whole answer, unchanged.
            pub raw: Value,
        }

        impl Customer {
            /// A customer with only its id and raw answer; backends fill
            /// the rest.
            pub fn new(id: impl Into<CustomerId>, raw: Value) -> Self {
                Self {
                    id: id.into(),
                    $( $cf: Default::default(), )*
                    raw,
                }
            }
        }
    };
}
neutral_table!(customer_model);

/// Reads a JSON value as text the way vendors mean it: strings as they
/// are, numbers and booleans in their JSON form (Fusebill sends phone
/// numbers as numbers), `null` and empty strings as `None`.
pub fn json_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
