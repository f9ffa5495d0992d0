//! Unit tests for the Ansible-compatible templating.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;

fn scope(v: Value) -> Scope {
    match v {
        Value::Object(m) => Scope::new(Arc::new(m)),
        _ => panic!("scope needs an object"),
    }
}

fn r(s: &str, vars: Value) -> Value {
    Templater::new().render_str(s, &scope(vars)).unwrap()
}

fn rs(s: &str, vars: Value) -> String {
    match r(s, vars) {
        Value::String(s) => s,
        other => panic!("expected a string, got {other}"),
    }
}

fn re(s: &str, vars: Value) -> TemplateError {
    Templater::new().render_str(s, &scope(vars)).unwrap_err()
}

#[test]
fn plain_strings_untouched() {
    assert_eq!(r("hello } {", json!({})), json!("hello } {"));
}

#[test]
fn native_types() {
    let v = json!({"l": [1, 2], "d": {"a": 1}, "n": 5, "b": true});
    assert_eq!(r("{{ l }}", v.clone()), json!([1, 2]));
    // Text around the expression (even whitespace) makes the result a string, as in Ansible.
    assert_eq!(r("  {{ d }} ", v.clone()), json!("  {'a': 1} "));
    assert_eq!(r("{{ n + 1 }}", v.clone()), json!(6));
    assert_eq!(r("{{ b }}", v.clone()), json!(true));
    assert_eq!(r("x{{ n }}", v.clone()), json!("x5"));
}

fn cond(s: &str, vars: Value) -> bool {
    Templater::new().eval_condition(s, &scope(vars)).unwrap()
}

fn ex(s: &str, vars: Value) -> Value {
    Templater::new().eval_expr(s, &scope(vars)).unwrap()
}

#[test]
fn python_style_output_in_text() {
    let v = json!({"b": true, "l": ["a", "b"], "d": {"k": false}, "n": null});
    assert_eq!(rs("x={{ b }}", v.clone()), "x=True");
    assert_eq!(rs("x={{ l }}", v.clone()), "x=['a', 'b']");
    assert_eq!(rs("x={{ d }}", v.clone()), "x={'k': False}");
    assert_eq!(rs("x={{ n }}", v.clone()), "x=");
    assert_eq!(rs("{{ 'a' ~ 'b' }}-{{ 1.5 }}", v), "ab-1.5");
}

#[test]
fn lazy_recursive_vars() {
    let v = json!({
        "base_dir": "/opt",
        "app_dir": "{{ base_dir }}/app",
        "dirs": ["{{ app_dir }}/bin", "{{ base_dir }}"],
        "cfg": {"path": "{{ app_dir }}/etc", "port": "{{ port }}"},
        "port": 8080,
    });
    assert_eq!(rs("{{ app_dir }}/x", v.clone()), "/opt/app/x");
    assert_eq!(r("{{ dirs }}", v.clone()), json!(["/opt/app/bin", "/opt"]));
    assert_eq!(
        r("{{ cfg }}", v.clone()),
        json!({"path": "/opt/app/etc", "port": 8080})
    );
    assert_eq!(r("{{ cfg.port }}", v.clone()), json!(8080));
    assert_eq!(r("{{ dirs[0] }}", v.clone()), json!("/opt/app/bin"));
    assert_eq!(r("{{ dirs[-1] }}", v.clone()), json!("/opt"));
    assert_eq!(r("{{ dirs | length }}", v.clone()), json!(2));
    // render_value renders nested structures.
    let t = Templater::new();
    let got = t
        .render_value(&json!({"a": ["{{ port }}", 1], "{{ base_dir }}": "k"}), &scope(v))
        .unwrap();
    assert_eq!(got, json!({"a": [8080, 1], "/opt": "k"}));
}

#[test]
fn self_referencing_dict_is_fine_but_cycles_fail() {
    let v = json!({"a": {"x": 1, "y": "{{ a.x + 1 }}"}});
    assert_eq!(r("{{ a.y }}", v), json!(2));
    let e = re("{{ a }}", json!({"a": "{{ b }}", "b": "{{ a }}"}));
    assert!(e.message.contains("recursive loop"), "{}", e.message);
    assert!(e.message.contains("a -> b -> a"), "{}", e.message);
    let e = re("{{ a }}", json!({"a": "x{{ a }}"}));
    assert!(e.message.contains("recursive loop"), "{}", e.message);
}

#[test]
fn undefined_is_strict_and_named() {
    let e = re("{{ app_port }}", json!({}));
    assert_eq!(e.message, "'app_port' is undefined");
    assert_eq!(e.undefined.as_deref(), Some("app_port"));
    let e = re("port={{ app_port }}", json!({}));
    assert!(e.message.contains("'app_port' is undefined"), "{}", e.message);
    assert_eq!(e.undefined.as_deref(), Some("app_port"));
    // Through a lazily templated variable.
    let e = re("{{ app_dir }}", json!({"app_dir": "{{ base_dir }}/app"}));
    assert_eq!(e.undefined.as_deref(), Some("base_dir"), "{}", e.message);
    assert!(e.message.contains("'base_dir' is undefined"), "{}", e.message);
    // Undefined attribute.
    let e = re("{{ foo.bar }}", json!({"foo": {}}));
    assert!(e.message.contains("foo.bar"), "{}", e.message);
    let e = re("{% if missing %}x{% endif %}", json!({}));
    assert_eq!(e.undefined.as_deref(), Some("missing"), "{}", e.message);
}

#[test]
fn defined_tests_and_defaults() {
    let v = json!({"foo": {"a": 1}, "e": "", "n": null});
    assert!(cond("foo is defined", v.clone()));
    assert!(cond("bar is undefined", v.clone()));
    assert!(cond("foo.b is undefined", v.clone()));
    assert!(cond("foo.a is defined", v.clone()));
    assert!(cond("n is none", v.clone()));
    assert_eq!(r("{{ foo.b | default(1) }}", v.clone()), json!(1));
    assert_eq!(r("{{ bar | d('x') }}", v.clone()), json!("x"));
    assert_eq!(r("{{ e | default('y') }}", v.clone()), json!(""));
    assert_eq!(r("{{ e | default('y', true) }}", v.clone()), json!("y"));
    assert_eq!(r("{{ e | default('y', boolean=true) }}", v.clone()), json!("y"));
    assert_eq!(r("{{ bar | default(omit) }}", v.clone()), json!(OMIT));
    assert_eq!(r("{{ omit }}", v), json!(OMIT));
}

#[test]
fn conditions_like_ansible_2_19() {
    let v =
        json!({"t": true, "f": false, "s": "False", "sf": "false", "l": [], "n": 3, "flag": "{{ n > 2 }}"});
    assert!(cond("t", v.clone()));
    assert!(!cond("f", v.clone()));
    assert!(!cond("{{ f }}", v.clone()));
    // A template whose result is a string is evaluated again as an expression.
    assert!(!cond("{{ s }}", v.clone()));
    assert!(!cond("  {{ sf }} ", v.clone()));
    assert!(cond("n == 3 and t", v.clone()));
    assert!(cond("flag", v.clone()));
    assert!(cond("'a' in ['a', 'b']", v.clone()));
    assert!(cond("n is number", v.clone()));
    let t = Templater::new();
    let broken = |c: &str| t.eval_condition(c, &scope(v.clone())).unwrap_err().to_string();
    // Not a boolean: an error, by default, with ansible-core's wording.
    assert!(
        broken("sf").starts_with("Conditional result (True) was derived from value of type 'str'."),
        "{}",
        broken("sf")
    );
    assert!(broken("l").starts_with("Conditional result (False) was derived from value of type 'list'."));
    assert!(broken("n").contains("type 'int'"));
    assert!(broken("{{ 0 }}").contains("(False) was derived from value of type 'int'"));
    assert_eq!(broken(" "), "Empty conditional expressions are not allowed.");
    let e = Templater::new()
        .eval_condition("missing", &scope(v.clone()))
        .unwrap_err();
    assert_eq!(e.undefined.as_deref(), Some("missing"));
    // ALLOW_BROKEN_CONDITIONALS: Python truthiness, and an empty condition is true.
    let lax = Templater::new().allow_broken_conditionals(true);
    let c = |e: &str| lax.eval_condition(e, &scope(v.clone())).unwrap();
    assert!(c("sf") && c("s") && c("n") && c(""));
    assert!(!c("l") && !c("{{ 0 }}") && !c("f"));
}

#[test]
fn a_lone_expression_with_one_trailing_newline_keeps_its_type() {
    let v = json!({"n": 5});
    assert_eq!(r("{{ [1, 2] }}\n", v.clone()), json!([1, 2]));
    assert_eq!(r("{{ n }}\n", v.clone()), json!(5));
    assert_eq!(r("{{ 'x' }}\n", v.clone()), json!("x\n"));
    assert_eq!(r("{{ n }}\n\n", v.clone()), json!("5\n\n"));
    assert_eq!(r("a {{ n }}\n", v.clone()), json!("a 5\n"));
    assert_eq!(r("\n{{ n }}", v), json!("\n5"));
}

#[test]
fn eval_expr_native() {
    let v = json!({"d": {"a": [1, 2]}});
    assert_eq!(ex("d.a", v.clone()), json!([1, 2]));
    assert_eq!(ex("{{ d.a | length }}", v.clone()), json!(2));
    assert_eq!(ex("d['a'][1] * 2", v), json!(4));
}

#[test]
fn jinja_compat_constructs() {
    let v = json!({"d": {"x": 1, "y": 2}, "items": ["a", "b"], "name": "Web"});
    assert_eq!(
        rs(
            "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
            v.clone()
        ),
        "x=1;y=2;"
    );
    assert_eq!(rs("{{ d.x }}{{ d['y'] }}", v.clone()), "12");
    assert_eq!(rs("{{ '%s-%d' | format(name, 3) }}", v.clone()), "Web-3");
    assert_eq!(
        rs(
            "{% for i in items %}{{ loop.index }}{{ i }}{% endfor %}",
            v.clone()
        ),
        "1a2b"
    );
    assert_eq!(rs("{% if name is defined %}yes{% endif %}", v.clone()), "yes");
    assert_eq!(r("{{ name.lower() }}", v.clone()), json!("web"));
    assert_eq!(r("{{ 'a,b'.split(',') }}", v.clone()), json!(["a", "b"]));
    assert_eq!(r("{{ name.startswith('W') }}", v.clone()), json!(true));
    assert_eq!(r("{{ d.keys() | list }}", v.clone()), json!(["x", "y"]));
    assert_eq!(r("{{ d.get('z', 5) }}", v.clone()), json!(5));
    assert_eq!(r("{{ vars['name'] }}", v), json!("Web"));
}

#[test]
fn hostvars_are_lazy_per_host() {
    let mut h = HostVars::new();
    let web1: Vars = json!({"ip": "10.0.0.{{ n }}", "n": 1})
        .as_object()
        .unwrap()
        .clone();
    h.insert("web1".into(), Arc::new(web1).into());
    let s = scope(json!({"n": 9, "groups": {"web": ["web1"]}})).with_hostvars(Arc::new(h));
    let t = Templater::new();
    assert_eq!(
        t.render_str("{{ hostvars['web1'].ip }}", &s).unwrap(),
        json!("10.0.0.1")
    );
    assert_eq!(t.render_str("{{ hostvars.web1['n'] }}", &s).unwrap(), json!(1));
    assert_eq!(
        t.render_str("{{ groups.web | map('extract', hostvars, 'ip') | list }}", &s)
            .unwrap(),
        json!(["10.0.0.1"])
    );
    assert!(t.eval_condition("hostvars['nope'] is undefined", &s).unwrap());
}

#[test]
fn template_files_trim_blocks_and_keep_newline() {
    let t = Templater::new();
    let s = scope(json!({"users": ["a", "b"]}));
    let out = t
        .render_template("{% for u in users %}\n{{ u }}\n{% endfor %}\nend\n", "x.j2", &s)
        .unwrap();
    assert_eq!(out, "a\nb\nend\n");
    // Strings in vars trim blocks too (ansible-core 2.19's templar) and keep trailing newlines.
    assert_eq!(rs("{% if true %}\nx{% endif %}\n", json!({})), "x\n");
    let e = t
        .render_template("line1\n{{ nope }}\n", "app.conf.j2", &s)
        .unwrap_err();
    assert_eq!(e.template.as_deref(), Some("app.conf.j2"));
    assert_eq!(e.line, Some(2));
    assert!(
        e.message.contains("'nope' is undefined") && e.message.contains("app.conf.j2"),
        "{}",
        e.message
    );
    let e = t.render_template("{% if %}", "bad.j2", &s).unwrap_err();
    assert!(e.message.contains("bad.j2"), "{}", e.message);
    // HTML-looking names are not auto-escaped.
    assert_eq!(
        t.render_template("{{ '<a>' }}", "index.html.j2", &s).unwrap(),
        "<a>"
    );
}

#[test]
fn filters_strings() {
    let v = json!({"s": "Hello World"});
    assert_eq!(r("{{ s | lower }}", v.clone()), json!("hello world"));
    assert_eq!(r("{{ s | upper }}", v.clone()), json!("HELLO WORLD"));
    assert_eq!(r("{{ 'abc' | capitalize }}", v.clone()), json!("Abc"));
    assert_eq!(r("{{ 'a b' | title }}", v.clone()), json!("A B"));
    assert_eq!(
        r("{{ s | replace('World', 'There') }}", v.clone()),
        json!("Hello There")
    );
    assert_eq!(r("{{ '  x ' | trim }}", v.clone()), json!("x"));
    assert_eq!(r("{{ ['a','b'] | join(',') }}", v.clone()), json!("a,b"));
    assert_eq!(r("{{ 'a b  c' | split }}", v.clone()), json!(["a", "b", "c"]));
    assert_eq!(r("{{ 'a:b' | split(':') }}", v.clone()), json!(["a", "b"]));
    assert_eq!(r("{{ 5 | string }}", v.clone()), json!("5"));
    assert_eq!(r("{{ true | string }}", v.clone()), json!("True"));
    assert_eq!(r("{{ \"it's\" | quote }}", v.clone()), json!("'it'\\''s'"));
    assert_eq!(r("{{ 'abc' | quote }}", v.clone()), json!("abc"));
    assert_eq!(r("{{ 'a b' | urlencode }}", v), json!("a%20b"));
}

#[test]
fn filters_conversions() {
    let v = json!({});
    assert_eq!(r("{{ 'yes' | bool }}", v.clone()), json!(true));
    assert_eq!(r("{{ 'No' | bool }}", v.clone()), json!(false));
    assert_eq!(r("{{ 1 | bool }}", v.clone()), json!(true));
    assert_eq!(r("{{ 'on' | bool }}", v.clone()), json!(true));
    assert_eq!(r("{{ '42' | int }}", v.clone()), json!(42));
    assert_eq!(r("{{ 'x' | int }}", v.clone()), json!(0));
    assert_eq!(r("{{ 'x' | int(7) }}", v.clone()), json!(7));
    assert_eq!(r("{{ '0x1A' | int(base=16) }}", v.clone()), json!(26));
    assert_eq!(r("{{ 'ff' | int(0, 16) }}", v.clone()), json!(255));
    assert_eq!(r("{{ '3.9' | int }}", v.clone()), json!(3));
    assert_eq!(r("{{ '1.5' | float }}", v.clone()), json!(1.5));
    assert_eq!(r("{{ 'x' | float }}", v.clone()), json!(0.0));
    assert_eq!(r("{{ 1 | type_debug }}", v.clone()), json!("int"));
    assert_eq!(r("{{ 'a' | type_debug }}", v.clone()), json!("str"));
    assert_eq!(r("{{ {} | type_debug }}", v.clone()), json!("dict"));
    assert_eq!(r("{{ [1] | type_debug }}", v), json!("list"));
}

#[test]
fn filters_regex() {
    let v = json!({"s": "host-01.example.com"});
    assert_eq!(
        r(r"{{ s | regex_replace('^host-(\d+).*$', 'h\1') }}", v.clone()),
        json!("h01")
    );
    // ansible-core 2.19 keeps backslashes in literals: `\\d` is a backslash and `d`.
    assert_eq!(
        r(r"{{ s | regex_replace('^host-(\\d+).*$', 'h\\1') }}", v.clone()),
        json!("host-01.example.com")
    );
    assert_eq!(
        r(r"{{ s | regex_replace('^(?P<n>\w+)-.*', '\g<n>!') }}", v.clone()),
        json!("host!")
    );
    assert_eq!(
        r("{{ 'a$b' | regex_replace('a', '$') }}", v.clone()),
        json!("$$b")
    );
    assert_eq!(
        r(
            "{{ 'ABC' | regex_replace('b', 'x', ignorecase=true) }}",
            v.clone()
        ),
        json!("AxC")
    );
    assert_eq!(r(r"{{ s | regex_search('\d+') }}", v.clone()), json!("01"));
    assert_eq!(r("{{ s | regex_search('zzz') }}", v.clone()), json!(null));
    assert_eq!(
        r(r"{{ s | regex_search('(\w+)-(\d+)', '\2', '\1') }}", v.clone()),
        json!(["01", "host"])
    );
    assert_eq!(
        r(r"{{ 'a1b22' | regex_findall('\d+') }}", v.clone()),
        json!(["1", "22"])
    );
    assert_eq!(
        r(r"{{ 'k=v x=y' | regex_findall('(\w)=(\w)') }}", v.clone()),
        json!([["k", "v"], ["x", "y"]])
    );
    assert_eq!(r("{{ 'a.b' | regex_escape }}", v.clone()), json!("a\\.b"));
    assert!(cond("s is match('host')", v.clone()));
    assert!(!cond("s is match('example')", v.clone()));
    assert!(cond("s is search('example')", v.clone()));
    assert!(cond("s is regex('EXAMPLE', ignorecase=true)", v.clone()));
    let e = re("{{ s | regex_replace('(', 'x') }}", v);
    assert!(e.message.contains("invalid regular expression"), "{}", e.message);
}

#[test]
fn filters_serialization() {
    let v = json!({"d": {"b": 1, "a": [1, "x"]}});
    assert_eq!(
        r("{{ d | to_json }}", v.clone()),
        json!(r#"{"b": 1, "a": [1, "x"]}"#)
    );
    assert_eq!(
        r("{{ d | to_nice_json }}", v.clone()),
        json!("{\n    \"a\": [\n        1,\n        \"x\"\n    ],\n    \"b\": 1\n}")
    );
    assert_eq!(
        r("{{ '{\"a\": [1]}' | from_json }}", v.clone()),
        json!({"a": [1]})
    );
    assert_eq!(
        r("{{ 'a: 1\nb: [x]' | from_yaml }}", v.clone()),
        json!({"a": 1, "b": ["x"]})
    );
    let y = rs("{{ d | to_nice_yaml }}", v.clone());
    assert!(y.contains("b: 1") && y.contains("a:"), "{y}");
    assert_eq!(
        r("{{ d | to_yaml | from_yaml }}", v.clone()),
        json!({"b": 1, "a": [1, "x"]})
    );
    assert_eq!(r("{{ 'hi' | b64encode }}", v.clone()), json!("aGk="));
    assert_eq!(r("{{ 'aGk=' | b64decode }}", v), json!("hi"));
}

#[test]
fn filters_paths_and_hashes() {
    let v = json!({"p": "/etc/nginx/nginx.conf"});
    assert_eq!(r("{{ p | basename }}", v.clone()), json!("nginx.conf"));
    assert_eq!(r("{{ p | dirname }}", v.clone()), json!("/etc/nginx"));
    assert_eq!(r("{{ '/x' | dirname }}", v.clone()), json!("/"));
    assert_eq!(r("{{ 'x' | dirname }}", v.clone()), json!(""));
    assert_eq!(
        r("{{ p | splitext }}", v.clone()),
        json!(["/etc/nginx/nginx", ".conf"])
    );
    assert_eq!(
        r("{{ ['/a', 'b', 'c'] | path_join }}", v.clone()),
        json!("/a/b/c")
    );
    assert!(rs("{{ '~/x' | expanduser }}", v.clone()).ends_with("/x"));
    assert_eq!(
        r("{{ 'abc' | hash('sha1') }}", v.clone()),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        r("{{ 'abc' | checksum }}", v.clone()),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        r("{{ 'abc' | hash('sha256') }}", v),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
}

#[test]
fn filters_collections() {
    let v = json!({
        "a": {"x": 1, "n": {"p": 1, "l": [1]}},
        "b": {"y": 2, "n": {"q": 2, "l": [2]}},
        "users": [{"name": "b", "age": 3}, {"name": "a", "age": 5}],
    });
    assert_eq!(
        r("{{ a | combine(b) }}", v.clone()),
        json!({"x": 1, "n": {"q": 2, "l": [2]}, "y": 2})
    );
    assert_eq!(
        r("{{ a | combine(b, recursive=True) }}", v.clone()),
        json!({"x": 1, "n": {"p": 1, "l": [2], "q": 2}, "y": 2})
    );
    assert_eq!(
        r(
            "{{ a | combine(b, recursive=True, list_merge='append') }}",
            v.clone()
        ),
        json!({"x": 1, "n": {"p": 1, "l": [1, 2], "q": 2}, "y": 2})
    );
    assert_eq!(
        r("{{ {'a': 1} | combine({'b': 2}, {'a': 3}) }}", v.clone()),
        json!({"a": 3, "b": 2})
    );
    assert_eq!(
        r("{{ {'k': 1} | dict2items }}", v.clone()),
        json!([{"key": "k", "value": 1}])
    );
    assert_eq!(
        r("{{ [{'key': 'k', 'value': 1}] | items2dict }}", v.clone()),
        json!({"k": 1})
    );
    assert_eq!(
        r(
            "{{ [{'n': 'k', 'v': 1}] | items2dict(key_name='n', value_name='v') }}",
            v.clone()
        ),
        json!({"k": 1})
    );
    assert_eq!(
        r(
            "{{ users | sort(attribute='name') | map(attribute='name') | list }}",
            v.clone()
        ),
        json!(["a", "b"])
    );
    assert_eq!(
        r(
            "{{ users | selectattr('age', 'gt', 4) | map(attribute='name') | list }}",
            v.clone()
        ),
        json!(["a"])
    );
    assert_eq!(
        r(
            "{{ users | rejectattr('name', 'equalto', 'a') | list | length }}",
            v.clone()
        ),
        json!(1)
    );
    assert_eq!(
        r("{{ [1, 2, 3, 4] | select('even') | list }}", v.clone()),
        json!([2, 4])
    );
    assert_eq!(r("{{ [1, 2, 2] | unique }}", v.clone()), json!([1, 2]));
    assert_eq!(
        r(
            "{{ [3, 1] | min }}{{ [3, 1] | max }}{{ [3, 1] | sum }}",
            v.clone()
        ),
        json!("134")
    );
    assert_eq!(r("{{ [3, 1] | first }}", v.clone()), json!(3));
    assert_eq!(r("{{ [3, 1] | last }}", v.clone()), json!(1));
    assert_eq!(
        r("{{ [1, [2, [3, none]]] | flatten }}", v.clone()),
        json!([1, 2, 3])
    );
    assert_eq!(
        r("{{ [1, [2, [3]]] | flatten(1) }}", v.clone()),
        json!([1, 2, [3]])
    );
    assert_eq!(
        r("{{ [1, 2] | zip(['a', 'b']) | list }}", v.clone()),
        json!([[1, "a"], [2, "b"]])
    );
    assert_eq!(
        r("{{ [1, 2] | product(['a']) | list }}", v.clone()),
        json!([[1, "a"], [2, "a"]])
    );
    assert_eq!(r("{{ [1, 2, 3] | difference([2]) }}", v.clone()), json!([1, 3]));
    assert_eq!(r("{{ [1, 2, 3] | intersect([2, 5]) }}", v.clone()), json!([2]));
    assert_eq!(r("{{ [1, 2] | union([2, 5]) }}", v.clone()), json!([1, 2, 5]));
    assert_eq!(
        r("{{ [1, 2] | symmetric_difference([2, 5]) }}", v.clone()),
        json!([1, 5])
    );
    assert_eq!(
        r("{{ {'b': 1, 'a': 2} | dictsort }}", v.clone()),
        json!([["a", 2], ["b", 1]])
    );
    assert_eq!(r("{{ a | length }}", v.clone()), json!(2));
    assert_eq!(r("{{ range(3) | list }}", v.clone()), json!([0, 1, 2]));
    assert_eq!(r("{{ dict(a=1) }}", v.clone()), json!({"a": 1}));
    assert_eq!(r("{{ 'ab' | list }}", v.clone()), json!(["a", "b"]));
    assert_eq!(
        r("{{ [{'n': 1, 'l': ['x', 'y']}] | subelements('l') | length }}", v),
        json!(2)
    );
}

#[test]
fn filters_logic() {
    let v = json!({"t": true, "n": null});
    assert_eq!(r("{{ t | ternary('yes', 'no') }}", v.clone()), json!("yes"));
    assert_eq!(r("{{ (not t) | ternary('yes', 'no') }}", v.clone()), json!("no"));
    assert_eq!(
        r("{{ n | ternary('yes', 'no', 'none') }}", v.clone()),
        json!("none")
    );
    assert_eq!(r("{{ t | mandatory }}", v.clone()), json!(true));
    let e = re("{{ missing | mandatory('set missing!') }}", v.clone());
    assert!(e.message.contains("set missing!"), "{}", e.message);
}

#[test]
fn tests_on_results_and_versions() {
    let v = json!({
        "ok": {"changed": false, "rc": 0},
        "bad": {"failed": true, "rc": 1},
        "rcbad": {"rc": 2},
        "chg": {"changed": true},
        "sk": {"skipped": true},
        "loop": {"results": [{"changed": false}, {"changed": true}]},
    });
    assert!(cond(
        "ok is succeeded and ok is success and ok is not failed",
        v.clone()
    ));
    assert!(cond("bad is failed and bad is failure", v.clone()));
    assert!(cond("rcbad is failed", v.clone()));
    assert!(cond(
        "chg is changed and ok is not changed and loop is changed",
        v.clone()
    ));
    assert!(cond("sk is skipped and ok is not skipped", v.clone()));
    assert!(cond("'1.10' is version('1.9', '>')", v.clone()));
    assert!(cond("'2.0' is version('2.0.0', 'lt')", v.clone()));
    assert!(cond("'20.10.7' is version('20.10', '>=')", v.clone()));
    assert!(cond("'1.2' is version_compare('1.2', '==')", v.clone()));
    assert!(cond(
        "[1] is subset([1, 2]) and [1, 2] is superset([2])",
        v.clone()
    ));
    assert!(cond("[1, 2] is contains(2) and 2 is in([1, 2])", v.clone()));
    assert!(cond(
        "'x' is string and 1 is integer and 1.5 is float and {} is mapping",
        v.clone()
    ));
    assert!(cond(
        "[] is sequence and [] is iterable and true is boolean",
        v.clone()
    ));
    assert!(cond("'' is falsy and 'x' is truthy", v.clone()));
    assert!(cond(
        "'/' is directory and '/' is exists and '/nonexistent-x' is not exists",
        v.clone()
    ));
    let e = Templater::new()
        .eval_condition("'x' is failed", &scope(v))
        .unwrap_err();
    assert!(e.message.contains("expects a dictionary"), "{}", e.message);
}

#[test]
fn lookups() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files/key.pub"), "ssh-ed25519 AAA\n\n").unwrap();
    std::fs::write(dir.path().join("t.j2"), "v={{ x }}").unwrap();
    let s = scope(json!({"x": 3})).with_search_paths(vec![dir.path().to_path_buf()]);
    let t = Templater::new();
    assert_eq!(
        t.render_str("{{ lookup('file', 'key.pub') }}", &s).unwrap(),
        json!("ssh-ed25519 AAA")
    );
    assert_eq!(
        t.render_str("{{ lookup('template', 't.j2') }}", &s).unwrap(),
        json!("v=3")
    );
    let e = t.render_str("{{ lookup('file', 'nope.txt') }}", &s).unwrap_err();
    assert!(e.message.contains("nope.txt"), "{}", e.message);
    let home = std::env::var("HOME").unwrap_or_default();
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(
        t.render_str("{{ lookup('env', 'HOME') }}", &s).unwrap(),
        json!(home)
    );
    assert_eq!(
        t.render_str("{{ lookup('env', 'HOME', 'PATH') }}", &s).unwrap(),
        json!(format!("{home},{path}"))
    );
    assert_eq!(
        t.render_str("{{ lookup('env', 'TALON_NOPE_X') }}", &s).unwrap(),
        json!("")
    );
    assert_eq!(
        t.render_str("{{ query('env', 'HOME') }}", &s).unwrap(),
        json!([home])
    );
    assert_eq!(
        t.render_str("{{ q('items', [1, 2]) }}", &s).unwrap(),
        json!([1, 2])
    );
    assert_eq!(
        t.render_str("{{ lookup('env', 'HOME', wantlist=True) }}", &s)
            .unwrap(),
        json!([home])
    );
    assert_eq!(
        t.render_str("{{ lookup('pipe', 'echo hi') }}", &s).unwrap(),
        json!("hi")
    );
    assert_eq!(t.render_str("{{ lookup('vars', 'x') }}", &s).unwrap(), json!(3));
    let e = t.render_str("{{ lookup('nope', 'x') }}", &s).unwrap_err();
    assert!(e.message.contains("not supported"), "{}", e.message);
}

#[test]
fn errors_are_clear() {
    let e = re("{{ 1 + }}", json!({}));
    assert!(e.message.contains("syntax error"), "{}", e.message);
    let e = re("{{ x | no_such_filter }}", json!({"x": 1}));
    assert!(
        e.message.contains("no_such_filter") || e.message.contains("unknown filter"),
        "{}",
        e.message
    );
}

#[test]
fn templater_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Templater>();
    check::<Scope>();
    check::<TemplateError>();
}

/// Not a correctness test: prints how long 10k renders of a simple string take.
#[test]
fn perf_micro_check() {
    let t = Templater::new();
    let mut vars = Vars::new();
    for i in 0..200 {
        vars.insert(format!("v{i}"), json!(i));
    }
    vars.insert("a".into(), json!("/srv"));
    let s = Scope::new(Arc::new(vars));
    let start = std::time::Instant::now();
    for _ in 0..10_000 {
        let v = t.render_str("{{ a }}/x", &s).unwrap();
        assert_eq!(v, json!("/srv/x"));
    }
    eprintln!("10k renders of '{{{{ a }}}}/x': {:?}", start.elapsed());
}

#[test]
fn comment_filter_as_ansible_core_writes_it() {
    // Expected values printed by ansible-core 2.19's own filter.
    let v = json!({"m": "Ansible managed", "two": "a\nb", "gap": "a\n\nb"});
    assert_eq!(rs("{{ m | comment }}", v.clone()), "#\n# Ansible managed\n#");
    assert_eq!(
        rs("{{ two | comment('cblock') }}", v.clone()),
        "/*\n *\n * a\n * b\n *\n */"
    );
    assert_eq!(
        rs("{{ gap | comment('xml') }}", v.clone()),
        "<!--\n -\n - a\n -\n - b\n -\n-->"
    );
    assert_eq!(
        rs(
            "{{ 'x' | comment('c', prefix_count=2, postfix='--') }}",
            v.clone()
        ),
        "//\n//\n// x\n--"
    );
    assert_eq!(
        rs("{{ 'x' | comment(decoration='; ', prefix='\\n') }}", v.clone()),
        "\\n\n; x\n;"
    );
    assert_eq!(rs("{{ 'x' | comment('erlang') }}", v.clone()), "%\n% x\n%");
    assert!(
        re("{{ 'x' | comment('nope') }}", v.clone())
            .message
            .contains("Invalid style 'nope'")
    );
    assert!(
        re("{{ 'x' | comment(decorashun='-') }}", v)
            .message
            .contains("decorashun")
    );
}

#[test]
fn d13_filters_from_jinja2_and_ansible_core_missing_before() {
    let v = json!({});
    assert_eq!(rs("{{ 'abc def ghi' | truncate(5) }}", v.clone()), "ab...");
    assert_eq!(rs("{{ 'abc def ghi jkl' | truncate(9) }}", v.clone()), "abc...");
    assert_eq!(
        rs("{{ 'abc def ghi jkl' | truncate(9, true) }}", v.clone()),
        "abc de..."
    );
    assert_eq!(rs("{{ 1536 | human_readable }}", v.clone()), "1.50 KB");
    assert_eq!(r("{{ '1.5K' | human_to_bytes }}", v.clone()), json!(1536));
    assert_eq!(
        r("{{ [3, 1, 2] | combinations(2) | list }}", v.clone()),
        json!([[3, 1], [3, 2], [1, 2]])
    );
    assert_eq!(
        rs("{{ 'x' | to_uuid }}", v.clone()),
        "66b2f013-1baa-5313-9c8c-e6f1182e0e90"
    );
}

#[test]
fn d13_version_test_strict_semver_and_pep440() {
    let v = json!({});
    assert_eq!(
        r("{{ '1.0a1' is version('1.0', '<', strict=true) }}", v.clone()),
        json!(true)
    );
    assert_eq!(
        r(
            "{{ '1.0.0' is version('1.0', 'eq', version_type='strict') }}",
            v.clone()
        ),
        json!(true)
    );
    assert_eq!(r("{{ '1.0a1' is version('1.0', '<') }}", v.clone()), json!(false));
    assert!(
        re("{{ '1.0.0.1' is version('1.0', strict=true) }}", v.clone())
            .message
            .contains("invalid version number '1.0.0.1'")
    );
    // semver and pep440 compare as ansible-core's SemanticVersion and packaging's Version.
    assert_eq!(
        r(
            "{{ ['1.0.0-rc.1' is version('1.0.0', 'lt', version_type='semver'), \
             '1.0.0+a' is version('1.0.0+b', '==', version_type='semantic'), \
             '1.0.0-alpha.10' is version('1.0.0-alpha.9', '>', version_type='semver'), \
             '1.0rc1' is version('1.0', '<', version_type='pep440'), \
             'v1.0.post1' is version('1.0', '>', version_type='pep440'), \
             '1.0.dev1' is version('1.0a1', '<', version_type='pep440'), \
             '1!0.1' is version('2.0', '>', version_type='pep440')] }}",
            v.clone()
        ),
        json!([true, true, true, true, true, true, true])
    );
    assert!(
        re(
            "{{ '1.0' is version('1.0.0', version_type='semver') }}",
            v.clone()
        )
        .message
        .contains("Version comparison failed: invalid semantic version '1.0'")
    );
    assert!(
        re("{{ 'foo' is version('1.0', version_type='pep440') }}", v.clone())
            .message
            .contains("Version comparison failed: Invalid version: 'foo'")
    );
    assert!(
        re("{{ '1.0' is version('1.0', 'is') }}", v.clone())
            .message
            .contains("Invalid operator type (is)")
    );
    assert!(
        re("{{ '' is version('1.0') }}", v)
            .message
            .contains("Input version value cannot be empty")
    );
}
