//! Streaming readers of bulk input: CSV and JSONL, one row at a time.

use std::io::{BufRead, Read};

use serde::Deserialize;
use serde_json::{Map, Value};
use unibill::{AttributeType, AttributeValue, CustomAttribute, CustomerPatch, CustomerRef};

use crate::fields::{check_field, insert_path, parse_custom_key, patch_from_json, settable_fields};
use crate::reference;

/// One input row: its line number, the reference as written, and the
/// update it asks for (or why it cannot be read).
#[derive(Debug)]
pub struct Row {
    /// Line number in the file, from 1 (the CSV header is line 1).
    pub line: u64,
    /// The reference as written (empty when it could not be read).
    pub reference: String,
    /// The reference and patch, or the reason the row is malformed.
    pub parsed: Result<(CustomerRef, CustomerPatch), String>,
}

/// The input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line: `{"id": …, "patch": {…}}` (or `"email"` /
    /// `"external"` instead of `"id"`).
    Jsonl,
}

/// What one CSV column holds.
#[derive(Debug, Clone)]
enum Column {
    Id,
    Field(String),
    Custom(String, AttributeType),
    TagsAdd,
    TagsRemove,
}

/// Reads the CSV header; unknown columns are an error listing the valid names.
fn plan_columns(header: &csv::StringRecord) -> Result<Vec<Column>, String> {
    let valid = settable_fields();
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    for name in header.iter() {
        let name = name.trim();
        let col = match name {
            "id" => Column::Id,
            "tags.add" => Column::TagsAdd,
            "tags.remove" => Column::TagsRemove,
            n if n.starts_with("custom.") => {
                let (key, ty) = parse_custom_key(n)?;
                Column::Custom(key, ty)
            }
            n => {
                if check_field(n, &valid).is_err() {
                    unknown.push(n.to_owned());
                    continue;
                }
                Column::Field(n.to_owned())
            }
        };
        columns.push(col);
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown column(s) {}; valid columns: id, {}, custom.KEY:Type, tags.add, tags.remove",
            unknown
                .iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", "),
            valid.join(", ")
        ));
    }
    if !columns.iter().any(|c| matches!(c, Column::Id)) {
        return Err("the CSV header has no `id` column (the customer reference)".into());
    }
    Ok(columns)
}

/// The rows of a CSV file, read lazily.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    columns: Vec<Column>,
    record: csv::StringRecord,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header and plans the columns.
    pub fn new(input: R) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header = reader
            .headers()
            .map_err(|e| format!("cannot read the CSV header: {e}"))?
            .clone();
        let columns = plan_columns(&header)?;
        Ok(Self {
            reader,
            columns,
            record: csv::StringRecord::new(),
        })
    }

    fn row(&self, line: u64) -> Row {
        let mut reference = String::new();
        let mut json = Map::new();
        let mut custom: Vec<(String, CustomAttribute)> = Vec::new();
        let mut add = Vec::new();
        let mut remove = Vec::new();
        let mut error = None;
        for (col, cell) in self.columns.iter().zip(self.record.iter()) {
            match col {
                Column::Id => reference = cell.trim().to_owned(),
                _ if cell.is_empty() => {}
                Column::Field(path) => insert_path(&mut json, path, Value::String(cell.to_owned())),
                Column::Custom(key, ty) => match AttributeValue::parse(key, *ty, cell) {
                    Ok(v) => custom.push((key.clone(), CustomAttribute::new(v))),
                    Err(e) => {
                        error.get_or_insert(e.to_string());
                    }
                },
                Column::TagsAdd => add.extend(split_tags(cell)),
                Column::TagsRemove => remove.extend(split_tags(cell)),
            }
        }
        let parsed = match error {
            Some(e) => Err(e),
            None => reference::parse(&reference)
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    let mut patch = patch_from_json(Value::Object(json))?;
                    for (k, a) in custom {
                        patch = patch.custom_attribute(k, a);
                    }
                    for t in add {
                        patch = patch.add_tag(t);
                    }
                    for t in remove {
                        patch = patch.remove_tag(t);
                    }
                    Ok((r, patch))
                }),
        };
        Row {
            line,
            reference,
            parsed,
        }
    }
}

/// Tags in one cell, separated by `;`.
fn split_tags(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let mut record = std::mem::take(&mut self.record);
        let read = self.reader.read_record(&mut record);
        self.record = record;
        match read {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(self.row(line))
            }
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| p.line())
                    .unwrap_or_else(|| self.reader.position().line());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    // The file itself failed: stop, after recording it.
                    return None;
                }
                // The cells read before the error, when the csv reader
                // kept them, still name the customer for the report.
                let reference = self
                    .columns
                    .iter()
                    .position(|c| matches!(c, Column::Id))
                    .and_then(|i| self.record.get(i))
                    .map(|id| id.trim().to_owned())
                    .unwrap_or_default();
                Some(Row {
                    line,
                    reference,
                    parsed: Err(format!("malformed CSV row: {e}")),
                })
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLine {
    /// An id (string or number; a string may also be `email:…`/`ref:…`),
    /// or the library's object form (`{"email": …}`).
    #[serde(default)]
    id: Option<Value>,
    /// The customer's email.
    #[serde(default)]
    email: Option<Value>,
    /// The caller's own reference.
    #[serde(default)]
    external: Option<Value>,
    #[serde(default)]
    patch: Value,
}

impl JsonLine {
    /// The reference as written (for the report) and as read.
    fn reference(&self) -> (String, Result<CustomerRef, String>) {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let keyed = |key: &str, prefix: &str, v: &Value| match v {
            Value::String(s) => {
                let written = format!("{prefix}{s}");
                let parsed = reference::parse(&written).map_err(|e| e.to_string());
                (written, parsed)
            }
            other => (text(other), Err(format!("`{key}` must be a string"))),
        };
        match (&self.id, &self.email, &self.external) {
            (Some(id), None, None) => match id {
                Value::String(s) => (s.clone(), reference::parse(s).map_err(|e| e.to_string())),
                Value::Number(n) => (
                    n.to_string(),
                    reference::parse(&n.to_string()).map_err(|e| e.to_string()),
                ),
                Value::Object(_) => match serde_json::from_value::<CustomerRef>(id.clone()) {
                    Ok(r) => {
                        let written = match &r {
                            CustomerRef::Email(e) => format!("email:{e}"),
                            CustomerRef::External(x) => format!("ref:{x}"),
                            other => other.as_str().to_owned(),
                        };
                        (written, Ok(r))
                    }
                    Err(e) => (text(id), Err(format!("`id`: {e}"))),
                },
                other => (
                    text(other),
                    Err("`id` must be a string, a number or an object".to_owned()),
                ),
            },
            (None, Some(email), None) => keyed("email", "email:", email),
            (None, None, Some(external)) => keyed("external", "ref:", external),
            (None, None, None) => (
                String::new(),
                Err("the line names no customer: give one of `id`, `email`, `external`".to_owned()),
            ),
            _ => (
                String::new(),
                Err("the line names the customer more than once: give only one of `id`, `email`, `external`".to_owned()),
            ),
        }
    }
}

/// The rows of a JSONL file, read lazily (blank lines are skipped).
pub struct JsonlRows<R: BufRead> {
    input: R,
    line: u64,
    buf: String,
}

impl<R: BufRead> JsonlRows<R> {
    /// Reads `input` line by line.
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: 0,
            buf: String::new(),
        }
    }
}

impl<R: BufRead> Iterator for JsonlRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.input.read_line(&mut self.buf) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let text = self.buf.trim();
            if text.is_empty() {
                continue;
            }
            let line = self.line;
            let parsed: Result<JsonLine, String> =
                serde_json::from_str(text).map_err(|e| format!("malformed JSON line: {e}"));
            let (reference, parsed) = match parsed {
                Err(e) => (String::new(), Err(e)),
                Ok(j) => {
                    let (reference, customer) = j.reference();
                    let parsed = match customer {
                        Err(e) => Err(e),
                        Ok(_) if !j.patch.is_object() => {
                            Err("`patch` must be a JSON object".to_owned())
                        }
                        Ok(r) => patch_from_json(j.patch).map(|p| (r, p)),
                    };
                    (reference, parsed)
                }
            };
            return Some(Row {
                line,
                reference,
                parsed,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_column_lists_valid_names() {
        let err = CsvRows::new("id,address.town\n1,x\n".as_bytes())
            .err()
            .unwrap();
        assert!(err.contains("`address.town`"), "{err}");
        assert!(err.contains(unibill::Field::City.name()), "{err}");
    }

    #[test]
    fn csv_rows_carry_line_numbers_and_bad_rows_fail_alone() {
        let text = "id,address.city,custom.tier:Integer,tags.add\n1,Paris,3,a;b\n2,Lyon\n3,,x,\n4,Nice,,\n";
        let rows: Vec<Row> = CsvRows::new(text.as_bytes()).unwrap().collect();
        assert_eq!(rows.len(), 4);
        let (r, p) = rows[0].parsed.as_ref().unwrap();
        assert_eq!(r.to_string(), "1");
        assert_eq!(p.tags.add.len(), 2);
        assert_eq!(rows[1].line, 3);
        assert!(rows[1].parsed.as_ref().unwrap_err().contains("malformed"));
        assert_eq!(rows[1].reference, "2");
        assert!(rows[2].parsed.as_ref().unwrap_err().contains("custom.tier"));
        assert!(rows[3].parsed.is_ok());
        assert_eq!(rows[3].line, 5);
    }

    #[test]
    fn jsonl_rows() {
        let text = "{\"id\": 12, \"patch\": {\"phone\": null}}\n\nnot json\n{\"id\": \"a\", \"patch\": {\"bogus\": 1}}\n";
        let rows: Vec<Row> = JsonlRows::new(text.as_bytes()).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].reference, "12");
        assert!(rows[0].parsed.is_ok());
        assert_eq!(rows[1].line, 3);
        assert!(rows[1].parsed.is_err());
        assert!(rows[2].parsed.as_ref().unwrap_err().contains("bogus"));
    }
}
