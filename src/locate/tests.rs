//! Unit tests of the locators: JSON and YAML pointers and keys to line and column, and
//! robustness on arbitrary text.

use super::*;

const JSON: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "dépôt — ünïcode",
  "Resources": {
    "Repo": {
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "Tags": [ {"Key": "a", "Value": {"Ref": "Env"}}, {"Key": "b", "Value": [1, [2, 3]]} ]
      }
    }
  },
  "a/b": {"m~n": 1, "\u00e9t\u00e9": 2, "q\"x": 3},
  "empty": {},
  "list": []
}"#;

#[test]
fn json_root_is_first_non_whitespace() {
    assert_eq!(json_pointer_position("  \n\t [1]", ""), Some((2, 3)));
    assert_eq!(json_pointer_position(JSON, ""), Some((1, 1)));
    assert_eq!(json_pointer_position("   ", ""), None);
    assert_eq!(json_pointer_position("", ""), None);
}

#[test]
fn json_top_level_and_nested_members() {
    assert_eq!(
        json_pointer_position(JSON, "/AWSTemplateFormatVersion"),
        Some((2, 31))
    );
    assert_eq!(json_pointer_position(JSON, "/Resources"), Some((4, 16)));
    assert_eq!(
        json_pointer_position(JSON, "/Resources/Repo/Type"),
        Some((6, 15))
    );
}

#[test]
fn json_columns_count_characters_after_multibyte_text() {
    let text = "{\"é\": \"ü\", \"k\": 1}";
    // `{"é": "ü", "k": 1}`: the value 1 is the 17th character (byte 19).
    assert_eq!(json_pointer_position(text, "/k"), Some((1, 17)));
    assert_eq!(json_pointer_position(text, "/é"), Some((1, 7)));
}

#[test]
fn json_arrays_by_index_and_nested_arrays() {
    assert_eq!(
        json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/0/Value/Ref"),
        Some((8, 49))
    );
    assert_eq!(
        json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/1/Value/1/1"),
        Some((8, 88))
    );
    assert_eq!(
        json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/2"),
        None
    );
    assert_eq!(
        json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/01"),
        None
    );
    assert_eq!(
        json_pointer_position(JSON, "/Resources/Repo/Properties/Tags/x"),
        None
    );
    assert_eq!(json_pointer_position(JSON, "/list/0"), None);
    assert_eq!(json_pointer_position(JSON, "/empty/x"), None);
}

#[test]
fn json_escaped_pointer_segments_and_escaped_keys() {
    assert_eq!(json_pointer_position(JSON, "/a~1b"), Some((12, 10)));
    assert_eq!(json_pointer_position(JSON, "/a~1b/m~0n"), Some((12, 18)));
    // Keys written with \u escapes match their unescaped form.
    assert_eq!(json_pointer_position(JSON, "/a~1b/été"), Some((12, 38)));
    assert_eq!(json_pointer_position(JSON, "/a~1b/q\"x"), Some((12, 49)));
    // Invalid pointers.
    assert_eq!(json_pointer_position(JSON, "a~1b"), None);
    assert_eq!(json_pointer_position(JSON, "/a~2b"), None);
    assert_eq!(json_pointer_position(JSON, "/a/b"), None);
}

#[test]
fn json_surrogate_pairs_in_keys() {
    let text = r#"{"\ud83d\ude00": 1, "\ud83d": 2}"#;
    assert_eq!(json_pointer_position(text, "/😀"), Some((1, 18)));
    assert_eq!(json_pointer_position(text, "/\u{fffd}"), Some((1, 31)));
}

#[test]
fn json_scalar_cannot_be_descended() {
    assert_eq!(json_pointer_position(JSON, "/Description/0"), None);
    assert_eq!(json_pointer_position("3", "/0"), None);
}

#[test]
fn json_skips_strings_containing_brackets_and_quotes() {
    let text = r#"{"a": "}]\"{[", "b": {"c": "}"}, "d": true}"#;
    assert_eq!(json_pointer_position(text, "/d"), Some((1, 39)));
    assert_eq!(json_pointer_position(text, "/b/c"), Some((1, 28)));
}

#[test]
fn json_tolerates_invalid_text_after_the_target() {
    let text = "{\"a\": {\"b\": 1, \"c\": [1, 2 }} garbage {{{";
    assert_eq!(json_pointer_position(text, "/a/b"), Some((1, 13)));
    assert_eq!(json_pointer_position(text, "/a/c/1"), Some((1, 25)));
    assert_eq!(
        json_pointer_position("{\"a\": 1, \"b\"", "/a"),
        Some((1, 7))
    );
    assert_eq!(json_pointer_position("{\"a\": 1, \"b\"", "/b"), None);
    assert_eq!(json_pointer_position("{\"a\": \"unterminated", "/b"), None);
}

#[test]
fn json_repeated_key_means_the_last_one() {
    let text = "{\"a\": 1,\n \"a\": 2}";
    assert_eq!(json_pointer_position(text, "/a"), Some((2, 7)));
}

#[test]
fn json_crlf_and_bom() {
    let text = "\u{feff}{\r\n  \"a\": [\r\n    true\r\n  ]\r\n}";
    assert_eq!(json_pointer_position(text, "/a/0"), Some((3, 5)));
}

#[test]
fn yaml_key_position_points_at_the_key() {
    let text = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      \
                RepositoryNam: x\n      \"Quoted\": 'y'\n      Nested:\n        A: 1\n      \
                Flow: {B: 2, 'C': 3}\n      List:\n        - D: 4\n";
    let at = |p: &str| yaml_key_position(text, p);
    assert_eq!(at("/Resources/Repo/Properties/RepositoryNam"), Some((5, 7)));
    assert_eq!(at("/Resources/Repo/Properties/Quoted"), Some((6, 7)));
    assert_eq!(at("/Resources/Repo/Properties/Nested"), Some((7, 7)));
    assert_eq!(at("/Resources/Repo/Properties"), Some((4, 5)));
    assert_eq!(at("/Resources/Repo/Properties/Flow/B"), Some((9, 14)));
    assert_eq!(at("/Resources/Repo/Properties/Flow/C"), Some((9, 20)));
    assert_eq!(at("/Resources/Repo/Properties/List/0/D"), Some((11, 11)));
    assert_eq!(at("/Resources/Repo/Properties/Nope"), None);
    assert_eq!(at(""), None);
    // A value that mentions the key is not taken for it.
    assert_eq!(yaml_key_position("a: 'b: c'\n", "/a"), Some((1, 1)));
    assert_eq!(
        yaml_key_position("x: {b: 1, ab: 2}\n", "/x/ab"),
        Some((1, 11))
    );
}

#[test]
fn json_key_position_points_at_the_key() {
    assert_eq!(
        json_key_position(JSON, "/Resources/Repo/Type"),
        Some((6, 7))
    );
    assert_eq!(json_key_position(JSON, "/a~1b/m~0n"), Some((12, 11)));
    assert_eq!(
        json_key_position(JSON, "/Resources/Repo/Properties/Tags/0"),
        None
    );
    assert_eq!(json_key_position(JSON, ""), None);
    assert_eq!(json_key_position(JSON, "/Nope"), None);
    let text = "{\"ключ\": {\"é\": 1}}";
    assert_eq!(json_key_position(text, "/ключ/é"), Some((1, 11)));
}

#[test]
fn json_deep_nesting_does_not_overflow() {
    let deep = format!(
        "{{\"a\": {}1{}, \"b\": 2}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(json_pointer_position(&deep, "/b"), Some((1, 200_015)));
    let unbalanced = format!("{{\"a\": {}", "[".repeat(10_000));
    assert_eq!(json_pointer_position(&unbalanced, "/b"), None);
}

#[test]
fn never_panics_on_odd_input() {
    let inputs = [
        "",
        "{",
        "[",
        "\"",
        "{\"",
        "{\"a\"",
        "{\"a\":",
        "[1,",
        "\\",
        "{\"\\u12",
        "{\"\\ud800\\u",
        "é",
        "{\"é",
        "-",
        "- ",
        "a:",
        ":",
        "- - -",
        "{a: [",
        "a: {b: 'x",
        "a: !Ref",
        "\u{feff}",
    ];
    let pointers = ["", "/", "/a", "/0", "/a/0/b", "/~", "/a~1"];
    for text in inputs {
        for pointer in pointers {
            let _ = json_pointer_position(text, pointer);
            let _ = json_key_position(text, pointer);
            let _ = yaml_pointer_position(text, pointer);
        }
    }
}

/// A small deterministic generator (xorshift), to throw odd text at the scanners.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = u64::try_from(items.len()).unwrap_or(1);
        let i = usize::try_from(self.next() % n).unwrap_or(0);
        items[i]
    }
}

#[test]
fn random_text_never_panics() {
    let pieces = [
        "{", "}", "[", "]", "\"", "'", ":", ": ", ",", "-", "- ", "\n", "\r\n", "  ", "\t", "#",
        "\\", "\\u", "\\ud83d", "d83d", "a", "key", "é", "日本", "😀", "!Ref ", "&a ", "|", "~",
        "/", "0", "1", "---", "\u{feff}",
    ];
    let pointers = [
        "", "/a", "/key", "/0", "/1/a", "/key/0/a", "/a/Ref", "/é/0", "/~0/~1",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let len = usize::try_from(rng.next() % 40).unwrap_or(0);
        let text: String = (0..len).map(|_| rng.pick(&pieces)).collect();
        for pointer in pointers {
            for found in [
                json_pointer_position(&text, pointer),
                json_key_position(&text, pointer),
                yaml_pointer_position(&text, pointer),
            ]
            .into_iter()
            .flatten()
            {
                let (line, col) = found;
                assert!(line >= 1 && col >= 1, "{text:?} {pointer}");
                assert!(line <= text.lines().count().max(1), "{text:?} {pointer}");
            }
        }
    }
}

const YAML: &str = "\
# a comment
AWSTemplateFormatVersion: '2010-09-09'
Description: dépôt — ünïcode
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod, {nested: 'x'}]
Resources:
  Repo:
    Type: AWS::ECR::Repository   # trailing comment
    Properties:
      RepositoryName: !Sub '${Env}-repo'
      Tags:
        - Key: a
          Value: !Ref Env
        - Key: b
          Value:
            - 1
            -   2
      LifecyclePolicy: {LifecyclePolicyText: \"x\", RegistryId: !Ref AWS::AccountId}
  \"a/b\":
    'it''s': 1
Outputs:
  List:
  - one
  - two
  Cond:
    Value: !If
      - IsProd
      - yes
      - no
";

#[test]
fn yaml_root_and_top_level_keys() {
    assert_eq!(yaml_pointer_position(YAML, ""), Some((2, 1)));
    assert_eq!(
        yaml_pointer_position(YAML, "/AWSTemplateFormatVersion"),
        Some((2, 27))
    );
    assert_eq!(yaml_pointer_position(YAML, "/Description"), Some((3, 14)));
    // A value on following lines: the position of the key.
    assert_eq!(yaml_pointer_position(YAML, "/Resources"), Some((8, 1)));
    assert_eq!(yaml_pointer_position(YAML, "/Nope"), None);
}

#[test]
fn yaml_nested_mappings() {
    assert_eq!(
        yaml_pointer_position(YAML, "/Resources/Repo/Type"),
        Some((10, 11))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Resources/Repo/Properties"),
        Some((11, 5))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Parameters/Env/Type"),
        Some((6, 11))
    );
    assert_eq!(yaml_pointer_position(YAML, "/Resources/Repo/Nope"), None);
    // `Type` of Env is not a key of Resources/Repo's parent.
    assert_eq!(yaml_pointer_position(YAML, "/Resources/Type"), None);
}

#[test]
fn yaml_sequences_of_mappings() {
    let tags = "/Resources/Repo/Properties/Tags";
    assert_eq!(yaml_pointer_position(YAML, tags), Some((13, 7)));
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{tags}/0")),
        Some((14, 11))
    );
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{tags}/0/Key")),
        Some((14, 16))
    );
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{tags}/0/Value")),
        Some((15, 18))
    );
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{tags}/1/Key")),
        Some((16, 16))
    );
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{tags}/1/Value/1")),
        Some((19, 17))
    );
    assert_eq!(yaml_pointer_position(YAML, &format!("{tags}/2")), None);
    assert_eq!(yaml_pointer_position(YAML, &format!("{tags}/Key")), None);
}

#[test]
fn yaml_short_form_tags_stand_for_long_form_keys() {
    let tags = "/Resources/Repo/Properties/Tags";
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{tags}/0/Value/Ref")),
        Some((15, 23))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Resources/Repo/Properties/RepositoryName/Fn::Sub"),
        Some((12, 28))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Resources/Repo/Properties/RepositoryName/Ref"),
        None
    );
    // A tag whose operand is a block sequence.
    assert_eq!(
        yaml_pointer_position(YAML, "/Outputs/Cond/Value"),
        Some((28, 12))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Outputs/Cond/Value/Fn::If/0"),
        Some((29, 9))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Outputs/Cond/Value/Fn::If/2"),
        Some((31, 9))
    );
}

#[test]
fn yaml_flow_values() {
    assert_eq!(
        yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues"),
        Some((7, 20))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues/1"),
        Some((7, 26))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues/2/nested"),
        Some((7, 41))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Parameters/Env/AllowedValues/3"),
        None
    );
    let lp = "/Resources/Repo/Properties/LifecyclePolicy";
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{lp}/RegistryId")),
        Some((20, 63))
    );
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{lp}/RegistryId/Ref")),
        Some((20, 68))
    );
    assert_eq!(
        yaml_pointer_position(YAML, &format!("{lp}/LifecyclePolicyText")),
        Some((20, 46))
    );
}

#[test]
fn yaml_quoted_keys_and_escaped_pointer_segments() {
    assert_eq!(
        yaml_pointer_position(YAML, "/Resources/a~1b"),
        Some((21, 3))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Resources/a~1b/it's"),
        Some((22, 14))
    );
}

#[test]
fn yaml_compact_sequence_at_key_indentation() {
    assert_eq!(
        yaml_pointer_position(YAML, "/Outputs/List/0"),
        Some((25, 5))
    );
    assert_eq!(
        yaml_pointer_position(YAML, "/Outputs/List/1"),
        Some((26, 5))
    );
    assert_eq!(yaml_pointer_position(YAML, "/Outputs/Cond"), Some((27, 3)));
}

#[test]
fn yaml_top_level_sequence_and_nested_sequences() {
    let text = "---\n- a\n- - x\n  - y\n-\n  k: v\n";
    assert_eq!(yaml_pointer_position(text, ""), Some((2, 1)));
    assert_eq!(yaml_pointer_position(text, "/0"), Some((2, 3)));
    assert_eq!(yaml_pointer_position(text, "/1"), Some((3, 3)));
    assert_eq!(yaml_pointer_position(text, "/1/1"), Some((4, 5)));
    assert_eq!(yaml_pointer_position(text, "/2"), Some((5, 1)));
    assert_eq!(yaml_pointer_position(text, "/2/k"), Some((6, 6)));
    assert_eq!(yaml_pointer_position(text, "/3"), None);
}

#[test]
fn yaml_multi_line_flow_comments_and_blank_lines() {
    let text = "\
--- # the document
Tags: {
  a: [1, 2],   # comment
  'b': {\"c\": x}
}
# between

List:

  - one   # first

  # comment between items
  - k: v

    k2: w
Last: end
";
    assert_eq!(yaml_pointer_position(text, ""), Some((2, 1)));
    assert_eq!(yaml_pointer_position(text, "/Tags"), Some((2, 7)));
    assert_eq!(yaml_pointer_position(text, "/Tags/a/1"), Some((3, 10)));
    assert_eq!(yaml_pointer_position(text, "/Tags/b/c"), Some((4, 14)));
    assert_eq!(yaml_pointer_position(text, "/List"), Some((8, 1)));
    assert_eq!(yaml_pointer_position(text, "/List/0"), Some((10, 5)));
    assert_eq!(yaml_pointer_position(text, "/List/1"), Some((13, 5)));
    assert_eq!(yaml_pointer_position(text, "/List/1/k2"), Some((15, 9)));
    assert_eq!(yaml_pointer_position(text, "/List/2"), None);
    assert_eq!(yaml_pointer_position(text, "/Last"), Some((16, 7)));
}

#[test]
fn yaml_flow_plain_scalars_with_quotes_and_anchors() {
    let text = "a: &anchor [it's, \"x, y\", {k: 'v, w'}, last]\nb: &only\n  c: 1\n";
    assert_eq!(yaml_pointer_position(text, "/a"), Some((1, 12)));
    assert_eq!(yaml_pointer_position(text, "/a/2/k"), Some((1, 31)));
    assert_eq!(yaml_pointer_position(text, "/a/3"), Some((1, 40)));
    assert_eq!(yaml_pointer_position(text, "/b/c"), Some((3, 6)));
}

#[test]
fn json_escaped_solidus_in_keys() {
    let text = r#"{"a\/b": 1, "c": {"d\\e": 2}}"#;
    assert_eq!(json_pointer_position(text, "/a~1b"), Some((1, 10)));
    assert_eq!(json_pointer_position(text, "/c/d\\e"), Some((1, 27)));
}

#[test]
fn yaml_multibyte_keys_count_characters() {
    let text = "ключ:\n  été: значение\n";
    assert_eq!(yaml_pointer_position(text, "/ключ"), Some((1, 1)));
    assert_eq!(yaml_pointer_position(text, "/ключ/été"), Some((2, 8)));
}

#[test]
fn yaml_keys_with_colons_and_crlf() {
    let text = "Value:\r\n  Fn::GetAtt: [Repo, Arn]\r\n  url: http://x\r\n";
    assert_eq!(
        yaml_pointer_position(text, "/Value/Fn::GetAtt/1"),
        Some((2, 22))
    );
    assert_eq!(yaml_pointer_position(text, "/Value/url"), Some((3, 8)));
}

#[test]
fn yaml_sibling_after_nested_block() {
    let text = "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n";
    assert_eq!(yaml_pointer_position(text, "/a/d"), Some((4, 6)));
    assert_eq!(yaml_pointer_position(text, "/e"), Some((5, 4)));
    assert_eq!(yaml_pointer_position(text, "/a/e"), None);
    assert_eq!(yaml_pointer_position(text, "/a/b/d"), None);
}
