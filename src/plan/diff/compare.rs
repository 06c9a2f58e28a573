//! The structural comparison behind `plan::diff`: two canonical values walked side by side,
//! with order-insensitive arrays (tags, policy statements) matched by name or content, and each
//! difference collected at its deepest path.
//!
//! Section and resource bookkeeping is in the parent module; the canonical form is in
//! `template::canonical`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{display_form, render_path, ChangeKind, PropertyChange, Seg};
use crate::template::canonical::{
    child_ctx, compact, holds_statements, norm, set_of, sid_entries, statement_list, tag_entries,
    Ctx,
};
use crate::template::intrinsic::is_intrinsic;

pub(super) struct Found {
    path: Vec<Seg>,
    kind: ChangeKind,
    before: Option<Value>,
    after: Option<Value>,
}

pub(super) fn found(
    out: &mut Vec<Found>,
    path: &[Seg],
    before: Option<&Value>,
    after: Option<&Value>,
) {
    let kind = match (before, after) {
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        _ => ChangeKind::Modified,
    };
    out.push(Found {
        path: path.to_vec(),
        kind,
        before: before.cloned(),
        after: after.cloned(),
    });
}

/// Sorts into path order and renders the paths.
pub(super) fn finish(mut found: Vec<Found>) -> Vec<PropertyChange> {
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
        .into_iter()
        .map(|f| PropertyChange {
            path: render_path(&f.path),
            kind: f.kind,
            before: f.before.map(display_form),
            after: f.after.map(display_form),
        })
        .collect()
}

/// Compares two optional values at `path`; when only one side is there and it is an object,
/// the other counts as `{}` so that changes are reported at the deepest level.
pub(super) fn compare_present(
    path: &mut Vec<Seg>,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<Found>,
) {
    let empty = Value::Object(Map::new());
    match (a, b) {
        (Some(a), Some(b)) => compare(path, a, b, Ctx::Plain, out),
        (None, Some(b)) if b.is_object() => compare(path, &empty, b, Ctx::Plain, out),
        (Some(a), None) if a.is_object() => compare(path, a, &empty, Ctx::Plain, out),
        (None, None) => {}
        (a, b) => found(out, path, a, b),
    }
}

pub(super) fn compare(path: &mut Vec<Seg>, a: &Value, b: &Value, ctx: Ctx, out: &mut Vec<Found>) {
    let ctx = if is_intrinsic(a) && is_intrinsic(b) {
        Ctx::Plain
    } else {
        ctx
    };
    let leaf_set = match ctx {
        Ctx::Set => true,
        Ctx::Principal | Ctx::Condition => !(a.is_object() && b.is_object()),
        Ctx::Plain | Ctx::Statement => false,
    };
    if leaf_set {
        if set_of(a) != set_of(b) {
            found(out, path, Some(a), Some(b));
        }
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => compare_objects(path, x, y, ctx, out),
        (Value::Array(x), Value::Array(y)) => compare_arrays(path, x, y, out),
        _ if a != b => found(out, path, Some(a), Some(b)),
        _ => {}
    }
}

pub(super) fn compare_objects(
    path: &mut Vec<Seg>,
    x: &Map<String, Value>,
    y: &Map<String, Value>,
    ctx: Ctx,
    out: &mut Vec<Found>,
) {
    let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    for key in keys {
        path.push(Seg::Key(key.clone()));
        match (x.get(key), y.get(key)) {
            (Some(a), Some(b)) if key == "Statement" && holds_statements(ctx) => {
                compare_statements(path, a, b, out)
            }
            (Some(a), Some(b)) => compare(path, a, b, child_ctx(ctx, key), out),
            (a, b) => found(out, path, a, b),
        }
        path.pop();
    }
}

pub(super) fn compare_arrays(path: &mut Vec<Seg>, x: &[Value], y: &[Value], out: &mut Vec<Found>) {
    if !(x.is_empty() && y.is_empty()) {
        if let (Some(tx), Some(ty)) = (tag_entries(x), tag_entries(y)) {
            compare_keyed(path, "Key", &tx, &ty, Ctx::Plain, out);
            return;
        }
    }
    if x.len() == y.len() {
        for (i, (a, b)) in x.iter().zip(y).enumerate() {
            path.push(Seg::Index(i));
            compare(path, a, b, Ctx::Plain, out);
            path.pop();
        }
    } else {
        found(
            out,
            path,
            Some(&Value::Array(x.to_vec())),
            Some(&Value::Array(y.to_vec())),
        );
    }
}

/// Compares the elements of two order-insensitive arrays matched by a unique name.
pub(super) fn compare_keyed(
    path: &mut Vec<Seg>,
    field: &'static str,
    x: &[(String, &Value)],
    y: &[(String, &Value)],
    ctx: Ctx,
    out: &mut Vec<Found>,
) {
    fn get<'v>(list: &[(String, &'v Value)], key: &str) -> Option<&'v Value> {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
    let keys: BTreeSet<&String> = x.iter().chain(y).map(|(k, _)| k).collect();
    for key in keys {
        path.push(Seg::Keyed(field, key.clone()));
        match (get(x, key), get(y, key)) {
            (Some(a), Some(b)) => compare(path, a, b, ctx, out),
            (a, b) => found(out, path, a, b),
        }
        path.pop();
    }
}

/// Compares two `Statement` values without regard to statement order.
pub(super) fn compare_statements(path: &mut Vec<Seg>, a: &Value, b: &Value, out: &mut Vec<Found>) {
    if a.is_object() && b.is_object() && !is_intrinsic(a) && !is_intrinsic(b) {
        return compare(path, a, b, Ctx::Statement, out);
    }
    let (Some(xs), Some(ys)) = (statement_list(a), statement_list(b)) else {
        return compare(path, a, b, Ctx::Plain, out);
    };
    let nx: Vec<String> = xs
        .iter()
        .map(|s| compact(&norm(s, Ctx::Statement)))
        .collect();
    let ny: Vec<String> = ys
        .iter()
        .map(|s| compact(&norm(s, Ctx::Statement)))
        .collect();
    let (mut sx, mut sy) = (nx.clone(), ny.clone());
    sx.sort();
    sy.sort();
    if sx == sy {
        return;
    }
    if let (Some(kx), Some(ky)) = (sid_entries(&xs), sid_entries(&ys)) {
        return compare_keyed(path, "Sid", &kx, &ky, Ctx::Statement, out);
    }
    // Pair equal statements wherever they are; what is left is what changed.
    let mut used = vec![false; ny.len()];
    let mut left_old = Vec::new();
    for (i, n) in nx.iter().enumerate() {
        match (0..ny.len()).find(|&j| !used[j] && ny[j] == *n) {
            Some(j) => used[j] = true,
            None => left_old.push(i),
        }
    }
    let left_new: Vec<usize> = (0..ny.len()).filter(|&j| !used[j]).collect();
    let at = |path: &mut Vec<Seg>,
              index: usize,
              out: &mut Vec<Found>,
              a: Option<&Value>,
              b: Option<&Value>| {
        path.push(Seg::Index(index));
        match (a, b) {
            (Some(a), Some(b)) => compare(path, a, b, Ctx::Statement, out),
            (a, b) => found(out, path, a, b),
        }
        path.pop();
    };
    if left_old == left_new {
        for &i in &left_old {
            at(path, i, out, Some(xs[i]), Some(ys[i]));
        }
    } else if let ([i], [j]) = (left_old.as_slice(), left_new.as_slice()) {
        at(path, *j, out, Some(xs[*i]), Some(ys[*j]));
    } else if left_old.is_empty() {
        for &j in &left_new {
            at(path, j, out, None, Some(ys[j]));
        }
    } else if left_new.is_empty() {
        for &i in &left_old {
            at(path, i, out, Some(xs[i]), None);
        }
    } else {
        found(out, path, Some(a), Some(b));
    }
}
