//! Helpers shared by the btcd and dcrd vector tests: reading a vector's fields and comparing
//! decoded values with the vector's JSON, key by key.
#![allow(dead_code)]

use serde_json::Value;

/// Compares `actual` with `expected` key by key (both ways), recursively.
pub fn compare(expected: &Value, actual: &Value, path: &str, errs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => compare(ev, av, &format!("{path}.{k}"), errs),
                    None => errs.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                errs.push(format!("{path}.{k}: not in the vector"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                errs.push(format!("{path}: {} entries, expected {}", a.len(), e.len()));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, &format!("{path}[{i}]"), errs);
            }
        }
        // An address that is not on the wire (the optional `AddrMe` of a short `version`) is a
        // nil IP upstream; ours is the unspecified address `::` with port and services 0.
        (Value::Null, Value::String(s)) if path.ends_with("AddrMe.IP") && s == "::" => {}
        (e, a) if e == a => {}
        (e, a) => errs.push(format!("{path}: got {a}, expected {e}")),
    }
}

/// The hex field `key` of vector `v`, decoded.
pub fn bytes_of(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no {key}", v["name"]));
    hex::decode(s).unwrap_or_else(|e| panic!("{}: bad hex in {key}: {e}", v["name"]))
}

/// The protocol version the vector was decoded at.
pub fn pver(v: &Value) -> u32 {
    v["protocol_version"].as_u64().expect("protocol_version") as u32
}
