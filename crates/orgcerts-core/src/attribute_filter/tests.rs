use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use orgcerts_testkit::pki::{Ca, DnType, Ia5String, LeafSpec, OtherNameValue, SanType};

use super::*;
use crate::echo;

fn ia5(text: &str) -> Ia5String {
    Ia5String::try_from(text).expect("ASCII")
}

/// A client certificate with every attribute a filter can read.
fn full_certificate() -> CertificateAttributes {
    let ca = Ca::root("Filters Root");
    let spec = LeafSpec::client("svc.example.com")
        .with_subject(DnType::CountryName, "DE")
        .with_subject(DnType::OrganizationName, "Acme")
        .with_subject(DnType::OrganizationalUnitName, "Payments")
        .with_subject(DnType::LocalityName, "Berlin")
        .with_subject(DnType::StateOrProvinceName, "Berlin State")
        .with_subject(DnType::CustomDnType(vec![2, 5, 4, 9]), "Unter den Linden 1")
        .with_subject(DnType::CustomDnType(vec![2, 5, 4, 17]), "10117")
        .with_subject_alt_name(SanType::DnsName(ia5("api.example.com")))
        .with_subject_alt_name(SanType::Rfc822Name(ia5("ops@example.com")))
        .with_subject_alt_name(SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))))
        .with_subject_alt_name(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)))
        .with_subject_alt_name(SanType::URI(ia5("spiffe://example.com/payments")))
        .with_subject_alt_name(SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            OtherNameValue::Utf8String("upn@example.com".to_owned()),
        )));
    let client = ca.mint(&spec);
    CertificateAttributes::from_der(&client.cert_der).expect("parses")
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn verdict(source: &str, attributes: &CertificateAttributes) -> Verdict {
    AttributeFilter::compile(source)
        .unwrap_or_else(|err| panic!("{source}: {err}"))
        .evaluate(attributes, later())
}

fn compile_error(source: &str) -> String {
    match AttributeFilter::compile(source) {
        Ok(_) => panic!("{} compiled", echo(source)),
        Err(Error::InvalidAttributeFilter { message }) => message,
        Err(other) => panic!("{}: {other}", echo(source)),
    }
}

#[test]
fn the_issue_example_accepts_a_dns_name_under_the_domain_and_refuses_others() {
    let filter =
        r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))"#;
    assert_eq!(verdict(filter, &full_certificate()), Verdict::Accepted);
    let plain = CertificateAttributes::from_der(&Ca::root("R").client("c").cert_der).unwrap();
    assert_eq!(verdict(filter, &plain), Verdict::Refused);
    let other =
        r#"subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.org"))"#;
    assert_eq!(verdict(other, &full_certificate()), Verdict::Refused);
}

#[test]
fn every_subject_variable_reads_its_attribute() {
    let cert = full_certificate();
    for (field, value) in [
        ("common_name", "svc.example.com"),
        ("country_code", "DE"),
        ("organization", "Acme"),
        ("organizational_unit", "Payments"),
        ("locality", "Berlin"),
        ("province", "Berlin State"),
        ("street_address", "Unter den Linden 1"),
        ("postal_code", "10117"),
    ] {
        assert_eq!(
            verdict(&format!("subject.{field} == '{value}'"), &cert),
            Verdict::Accepted,
            "{field}"
        );
        assert_eq!(
            verdict(&format!("subject.{field} == 'something else'"), &cert),
            Verdict::Refused,
            "{field}"
        );
    }
}

#[test]
fn an_absent_subject_attribute_is_the_empty_string() {
    let plain = CertificateAttributes::from_der(&Ca::root("R").client("c").cert_der).unwrap();
    assert_eq!(
        verdict("subject.organization == ''", &plain),
        Verdict::Accepted
    );
    assert_eq!(
        verdict("size(subject_alt_names) == 0", &plain),
        Verdict::Accepted
    );
}

#[test]
fn every_subject_alt_name_type_has_its_value_and_oid() {
    let cert = full_certificate();
    for (kind, value, oid) in [
        ("DNS", "api.example.com", ""),
        ("EMAIL", "ops@example.com", ""),
        ("IP_ADDRESS", "10.1.2.3", ""),
        ("IP_ADDRESS", "::1", ""),
        ("URI", "spiffe://example.com/payments", ""),
        ("CUSTOM", "upn@example.com", "1.3.6.1.4.1.311.20.2.3"),
    ] {
        let filter = format!(
            "subject_alt_names.exists(s, s.type == {kind} && s.value == '{value}' && s.oid == '{oid}')"
        );
        assert_eq!(verdict(&filter, &cert), Verdict::Accepted, "{filter}");
    }
    assert_eq!(
        verdict(
            "subject_alt_names.all(s, s.type != CUSTOM || s.oid.startsWith('1.3.6.1.4.1.311'))",
            &cert
        ),
        Verdict::Accepted
    );
    assert_eq!(
        verdict("size(subject_alt_names) == 6", &cert),
        Verdict::Accepted
    );
}

#[test]
fn the_standard_library_is_there() {
    let cert = full_certificate();
    for filter in [
        "subject.common_name.matches('^svc\\\\.[a-z]+\\\\.com$')",
        "subject.organization in ['Acme', 'Globex']",
        "has(subject.common_name) && subject.common_name.contains('example')",
        "subject_alt_names.filter(s, s.type == IP_ADDRESS).size() == 2",
        "subject_alt_names.map(s, s.type).exists_one(t, t == URI)",
        "subject_alt_names[0].value == 'api.example.com'",
        "subject.country_code == 'DE' ? true : false",
        "!(subject.locality == 'Paris')",
        "size(subject_alt_names) * 2 - 1 == 11",
        "subject.organization + '/' + subject.organizational_unit == 'Acme/Payments'",
        "(subject_alt_names + []).size() == 6",
    ] {
        assert_eq!(verdict(filter, &cert), Verdict::Accepted, "{filter}");
    }
}

#[test]
fn a_runtime_error_refuses() {
    let cert = full_certificate();
    assert_eq!(
        verdict("subject_alt_names[10].value == 'x'", &cert),
        Verdict::Refused
    );
    assert_eq!(verdict("{'a': 1}['b'] == 1", &cert), Verdict::Refused);
    assert_eq!(verdict("dyn(subject.common_name)", &cert), Verdict::Refused);
}

#[test]
fn a_syntax_error_says_where() {
    let message = compile_error("subject.common_name == ");
    assert!(message.contains("line 1, column"), "{message}");
    let message = compile_error("subject.common_name == 'a' &&\n  (subject.locality == ");
    assert!(message.contains("line 2"), "{message}");
    // The stray `=` is the 21st character.
    let message = compile_error("subject.common_name = 'x'");
    assert!(message.contains("(line 1, column 21)"), "{message}");
}

#[test]
fn an_unknown_variable_or_field_says_which_and_where() {
    let message = compile_error("foo == 1");
    assert!(
        message.contains("'foo'") && message.contains("line 1, column 1"),
        "{message}"
    );
    let message = compile_error("subject.common_nam == 'x'");
    assert!(
        message.contains("'common_nam'") && message.contains("column 8"),
        "{message}"
    );
    let message = compile_error("subject_alt_names.exists(s, s.kind == DNS)");
    assert!(message.contains("'kind'"), "{message}");
    let message = compile_error("subject_alt_names.exists(s, t.type == DNS)");
    assert!(message.contains("'t'"), "{message}");
    let message = compile_error("subject.common_name.lowerAscii() == 'x'");
    assert!(message.contains("'lowerAscii'"), "{message}");
}

#[test]
fn an_expression_that_is_not_boolean_is_refused() {
    for source in [
        "subject.common_name",
        "1 + 2",
        "subject_alt_names",
        "subject_alt_names.map(s, s.value)",
        "size(subject.common_name)",
    ] {
        let message = compile_error(source);
        assert!(
            message.contains("must evaluate to a bool"),
            "{source}: {message}"
        );
    }
}

#[test]
fn operands_of_the_wrong_type_are_refused() {
    for source in [
        "subject.common_name > 5",
        "subject.common_name && true",
        "subject.common_name.endsWith(1)",
        "subject.common_name.matches('(')",
        "1 == 'one'",
        "subject.common_name + 1 == 'x'",
        "subject.common_name - 'x' == ''",
        "subject_alt_names[0] > 1",
    ] {
        let message = compile_error(source);
        assert!(message.contains("(line 1"), "{source}: {message}");
    }
}

#[test]
fn bounds_are_checked_when_saved() {
    let long = format!(
        "subject.common_name == '{}'",
        "a".repeat(MAX_ATTRIBUTE_FILTER_BYTES)
    );
    assert!(compile_error(&long).contains("bytes long"));
    for deep in [
        format!("{}true{}", "(".repeat(2000), ")".repeat(2000)),
        format!("size({}1{}) > 0", "[".repeat(1000), "]".repeat(1000)),
        format!("{}1{} > 0", "size(string(".repeat(100), "))".repeat(100)),
    ] {
        let message = compile_error(&deep);
        assert!(
            message.contains("nest") || message.contains("recursion"),
            "{message}"
        );
    }
    let nested = "[1].all(a, [1].all(b, [1].all(c, [1].all(d, [1].all(e, true)))))";
    assert!(compile_error(nested).contains("nest at most"));
    assert!(compile_error("   ").contains("empty"));
    assert!(
        AttributeFilter::compile("[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))").is_ok()
    );
    // A long chain of conditions is not deep nesting.
    let chain = (0..40)
        .map(|i| format!("subject.common_name == 'n{i}'"))
        .collect::<Vec<_>>()
        .join(" || ");
    assert!(
        AttributeFilter::compile(&chain).is_ok(),
        "{}",
        compile_error(&chain)
    );
}

/// Asserts that `source` compiles and that its evaluation stops at a 50 ms deadline.
fn assert_stopped_at_its_deadline(source: &str) {
    let filter = AttributeFilter::compile(source).expect("within the bounds");
    let started = Instant::now();
    let verdict = filter.evaluate(
        &full_certificate(),
        Instant::now() + Duration::from_millis(50),
    );
    assert_eq!(verdict, Verdict::DeadlineExceeded);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_runaway_comprehension_stops_at_its_deadline() {
    let list = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert_stopped_at_its_deadline(&format!(
        "[{list}].all(a, [{list}].all(b, [{list}].all(c, [{list}].all(d, a + b + c + d >= 0))))"
    ));
    // map and filter keep their fast path and still stop.
    assert_stopped_at_its_deadline(&format!(
        "[{list}].map(a, [{list}].map(b, [{list}].filter(c, [{list}].map(d, d).size() > c))).size() > 0"
    ));
    // exists_one runs every element.
    assert_stopped_at_its_deadline(&format!(
        "[{list}].exists_one(a, [{list}].exists_one(b, [{list}].exists_one(c, [{list}].exists_one(d, d == -1))))"
    ));
}

#[test]
fn a_quick_filter_finishes_well_within_a_deadline() {
    let filter = AttributeFilter::compile("subject_alt_names.exists(s, s.type == URI)").unwrap();
    assert_eq!(
        filter.evaluate(
            &full_certificate(),
            Instant::now() + Duration::from_millis(50)
        ),
        Verdict::Accepted
    );
}

#[test]
fn the_deepest_filter_evaluates_on_a_small_stack() {
    let deepest = (1..100)
        .map(|n| format!("{}1{} > 0", "size(string(".repeat(n), "))".repeat(n)))
        .take_while(|source| AttributeFilter::compile(source).is_ok())
        .last()
        .expect("some nesting compiles");
    let filter = AttributeFilter::compile(&deepest).unwrap();
    // Half of the 8 MiB the runtime's worker threads have.
    std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(move || filter.evaluate(&CertificateAttributes::default(), later()))
        .unwrap()
        .join()
        .unwrap();
}
