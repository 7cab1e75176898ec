//! Seeding helpers every emulator uses (vendor-neutral).

use serde_json::Value;

/// The integer id after the highest `id` any of `customers` holds (1 when
/// none holds one).
pub(crate) fn next_int_id(customers: &[Value]) -> i64 {
    customers
        .iter()
        .filter_map(|c| c.get("id").and_then(Value::as_i64))
        .max()
        .unwrap_or(0)
        + 1
}

/// Pushes `n` copies of `template` onto `customers` under fresh integer
/// ids (after the highest one held); returns their ids as text.
pub(crate) fn add_int_copies(
    customers: &mut Vec<Value>,
    template: &Value,
    n: usize,
) -> Vec<String> {
    let next = next_int_id(customers);
    (0..n)
        .map(|k| {
            let id = next + k as i64;
            let mut c = template.clone();
            c["id"] = Value::from(id);
            customers.push(c);
            id.to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn copies_take_ids_after_the_highest() {
        let mut customers = vec![json!({"id": 7}), json!({"id": 3}), json!({"name": "x"})];
        let ids = add_int_copies(&mut customers, &json!({"id": 0, "name": "t"}), 2);
        assert_eq!(ids, ["8", "9"]);
        assert_eq!(customers[3], json!({"id": 8, "name": "t"}));
        assert_eq!(next_int_id(&customers), 10);
        assert_eq!(next_int_id(&[]), 1);
    }
}
