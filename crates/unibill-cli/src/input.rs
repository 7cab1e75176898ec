//! Streaming readers of bulk input: CSV and JSONL, one row at a time.

use std::io::{BufRead, Read};

use serde::Deserialize;
use serde_json::{Map, Value};
use unibill::{AttributeType, AttributeValue, CustomAttribute, CustomerPatch, CustomerRef};

use crate::fields::{
    check_field_for, insert_path, parse_custom_key, patch_from_json, settable_fields,
};
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
    /// The input itself could not be read any further (an I/O error):
    /// this row records it, and no row follows.
    pub input_failed: bool,
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

/// What a column writes to, for spotting two columns that write the same
/// thing.
fn column_target(col: &Column) -> String {
    match col {
        Column::Id => "id".to_owned(),
        Column::Field(path) => path.clone(),
        Column::Custom(key, _) => format!("custom.{key}"),
        Column::TagsAdd => "tags.add".to_owned(),
        Column::TagsRemove => "tags.remove".to_owned(),
    }
}

/// Reads the CSV header; unknown columns are an error listing the valid
/// names, and two columns naming the same thing an error naming it.
fn plan_columns(header: &csv::StringRecord) -> Result<Vec<Column>, String> {
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err("the CSV file is empty: it needs a header row, e.g. `id,address.city`".into());
    }
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
                if let Err(e) = check_field_for(
                    n,
                    &valid,
                    "the columns tags.add and tags.remove",
                    "columns custom.KEY:Type",
                ) {
                    unknown.push((n.to_owned(), e));
                    continue;
                }
                Column::Field(n.to_owned())
            }
        };
        columns.push(col);
    }
    if let [(_, only)] = unknown.as_slice() {
        if !only.starts_with("unknown") {
            return Err(format!("CSV header: {only}"));
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown column(s) {}; valid columns: id, {}, custom.KEY:Type, tags.add, tags.remove",
            unknown
                .iter()
                .map(|(u, _)| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", "),
            valid.join(", ")
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (col, name) in columns.iter().zip(header.iter()) {
        let target = column_target(col);
        if !seen.insert(target.clone()) {
            return Err(format!(
                "the CSV header names `{target}` twice (column {}: `{}`); each column must be named once",
                seen.len() + 1,
                name.trim()
            ));
        }
    }
    if !columns.iter().any(|c| matches!(c, Column::Id)) {
        return Err("the CSV header has no `id` column (the customer reference)".into());
    }
    Ok(columns)
}

/// Tracks where each line of the input starts, so that a record's line is
/// the line its first cell is on. The `csv` crate's own positions are one
/// line early after a CRLF line end and after a blank line. A line ends at
/// `\n`, `\r\n` or a bare `\r` (old Mac exports), as the parser's records do.
struct LineTracker<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// The line number of the next byte, from 1.
    line: u64,
    /// Whether the next byte starts a line.
    at_line_start: bool,
    /// Whether the last byte was `\r` (a `\n` after it ends no new line).
    after_cr: bool,
    /// Non-blank lines read ahead of the parser: (byte offset, line).
    starts: std::collections::VecDeque<(u64, u64)>,
}

impl<R> LineTracker<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            line: 1,
            at_line_start: true,
            after_cr: false,
            starts: std::collections::VecDeque::new(),
        }
    }

    /// The line of the first non-blank line at or after `byte` (a record
    /// the parser says starts at `byte`), forgetting the lines before it.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.starts.front().is_some_and(|&(o, _)| o < byte) {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, l)| l)
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if self.at_line_start && b != b'\n' && b != b'\r' {
                self.starts.push_back((self.offset + i as u64, self.line));
            }
            let ends_line = b == b'\r' || (b == b'\n' && !self.after_cr);
            if ends_line {
                self.line += 1;
            }
            self.at_line_start = b == b'\n' || b == b'\r';
            self.after_cr = b == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Counts the records of a CSV input (not its lines: a quoted cell may
/// hold a line break), header excluded.
pub fn count_csv_records(input: impl Read) -> u64 {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut n = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => n += 1,
            Ok(false) => return n,
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => return n,
            Err(_) => n += 1,
        }
    }
}

/// Counts the non-blank lines of a JSONL input.
pub fn count_jsonl_records(input: impl Read) -> u64 {
    let mut reader = std::io::BufReader::new(input);
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return n,
            Ok(_) => n += u64::from(line.iter().any(|b| !b.is_ascii_whitespace())),
        }
    }
}

/// The rows of a CSV file, read lazily.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<LineTracker<R>>,
    columns: Vec<Column>,
    header_len: usize,
    record: csv::StringRecord,
    bytes: csv::ByteRecord,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header and plans the columns.
    pub fn new(input: R) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(LineTracker::new(input));
        let header = reader
            .headers()
            .map_err(|e| format!("cannot read the CSV header: {e}"))?
            .clone();
        let columns = plan_columns(&header)?;
        Ok(Self {
            reader,
            header_len: header.len(),
            columns,
            record: csv::StringRecord::new(),
            bytes: csv::ByteRecord::new(),
            done: false,
        })
    }

    /// The id cell of the current byte record, as text (lossy).
    fn id_cell(&self) -> String {
        self.columns
            .iter()
            .position(|c| matches!(c, Column::Id))
            .and_then(|i| self.bytes.get(i))
            .map(|id| String::from_utf8_lossy(id).trim().to_owned())
            .unwrap_or_default()
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
            input_failed: false,
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
        if self.done {
            return None;
        }
        let mut bytes = std::mem::take(&mut self.bytes);
        let read = self.reader.read_byte_record(&mut bytes);
        self.bytes = bytes;
        match read {
            Ok(false) => None,
            Ok(true) => {
                let byte = self.bytes.position().map_or(0, |p| p.byte());
                let line = self.reader.get_mut().line_at(byte);
                if self.bytes.len() != self.header_len {
                    return Some(Row {
                        line,
                        reference: self.id_cell(),
                        parsed: Err(format!(
                            "malformed CSV row: it has {} cell(s), the header has {}",
                            self.bytes.len(),
                            self.header_len
                        )),
                        input_failed: false,
                    });
                }
                match csv::StringRecord::from_byte_record(std::mem::take(&mut self.bytes)) {
                    Ok(record) => {
                        self.record = record;
                        let row = self.row(line);
                        self.bytes = std::mem::take(&mut self.record).into_byte_record();
                        Some(row)
                    }
                    Err(e) => {
                        self.bytes = e.into_byte_record();
                        let column = e_column(&self.bytes, &self.columns);
                        Some(Row {
                            line,
                            reference: self.id_cell(),
                            parsed: Err(format!("malformed CSV row: {column} is not valid UTF-8")),
                            input_failed: false,
                        })
                    }
                }
            }
            Err(e) => {
                let byte = e.position().map(|p| p.byte());
                let line = match byte {
                    Some(b) => self.reader.get_mut().line_at(b),
                    None => self.reader.get_ref().line,
                };
                let input_failed = matches!(e.kind(), csv::ErrorKind::Io(_));
                // The file itself failed: record it, and read no further.
                self.done = input_failed;
                Some(Row {
                    line,
                    reference: if input_failed {
                        String::new()
                    } else {
                        self.id_cell()
                    },
                    parsed: Err(if input_failed {
                        format!("cannot read the input: {e}")
                    } else {
                        format!("malformed CSV row: {e}")
                    }),
                    input_failed,
                })
            }
        }
    }
}

/// Which column of a record is not UTF-8, for the message.
fn e_column(record: &csv::ByteRecord, columns: &[Column]) -> String {
    record
        .iter()
        .zip(columns)
        .find(|(cell, _)| std::str::from_utf8(cell).is_err())
        .map(|(_, c)| format!("the `{}` cell", column_target(c)))
        .unwrap_or_else(|| "a cell".to_owned())
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
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> JsonlRows<R> {
    /// Reads `input` line by line.
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for JsonlRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        loop {
            if self.done {
                return None;
            }
            self.buf.clear();
            self.line += 1;
            let line = self.line;
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    // The input itself failed: record it, read no further.
                    self.done = true;
                    return Some(Row {
                        line,
                        reference: String::new(),
                        parsed: Err(format!("cannot read the input: {e}")),
                        input_failed: true,
                    });
                }
            }
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t.trim(),
                Err(e) => {
                    return Some(Row {
                        line,
                        reference: String::new(),
                        parsed: Err(format!(
                            "malformed JSON line: not valid UTF-8 (at byte {})",
                            e.valid_up_to() + 1
                        )),
                        input_failed: false,
                    })
                }
            };
            if text.is_empty() {
                continue;
            }
            let parsed: Result<JsonLine, String> = match serde_json::from_str::<Value>(text) {
                Err(e) => Err(format!("malformed JSON line: {e}")),
                Ok(Value::Object(m)) => serde_json::from_value(Value::Object(m))
                    .map_err(|e| format!("malformed JSON line: {e}")),
                Ok(_) => Err(
                    "malformed JSON line: each line must be a JSON object, e.g. {\"id\": \"…\", \"patch\": {…}}"
                        .to_owned(),
                ),
            };
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
                input_failed: false,
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
    fn csv_lines_are_where_records_start() {
        let text = "id,address.city\r\n1,a\r\n\r\n\n2,\"b\r\nc\"\r\n3,d";
        let lines: Vec<u64> = CsvRows::new(text.as_bytes())
            .unwrap()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, [2, 5, 7]);
        assert_eq!(count_csv_records(text.as_bytes()), 3);
        // Bare `\r` line ends (Excel's "CSV (Macintosh)"), a blank line too.
        let mac = "id,address.city\r1,a\r\r2,b\r3,c";
        let lines: Vec<u64> = CsvRows::new(mac.as_bytes())
            .unwrap()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, [2, 4, 5]);
        assert_eq!(count_csv_records(mac.as_bytes()), 3);
        assert_eq!(count_jsonl_records("{}\n\n  \n{}".as_bytes()), 2);
    }

    #[test]
    fn duplicate_and_empty_headers_are_refused() {
        let err = CsvRows::new("id,first_name,first_name\n".as_bytes())
            .err()
            .unwrap();
        assert!(err.contains("`first_name` twice"), "{err}");
        let err = CsvRows::new("id,custom.t:Integer,custom.t:String\n".as_bytes())
            .err()
            .unwrap();
        assert!(err.contains("`custom.t` twice"), "{err}");
        let err = CsvRows::new("".as_bytes()).err().unwrap();
        assert!(err.contains("empty"), "{err}");
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
