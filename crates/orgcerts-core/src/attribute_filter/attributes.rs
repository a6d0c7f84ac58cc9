//! The variables a filter sees: the client certificate's subject and subject alternative names,
//! named as OpenAI names them.

use std::collections::HashMap;
use std::net::IpAddr;

use cel::{Context, Value};
use x509_parser::der_parser::asn1_rs::{Any, Class, FromDer, Tag};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Certificate;

/// The fields of `subject`, each with the OID of the attribute it reads.
const SUBJECT_OIDS: [(&str, &str); 8] = [
    ("common_name", "2.5.4.3"),
    ("country_code", "2.5.4.6"),
    ("organization", "2.5.4.10"),
    ("organizational_unit", "2.5.4.11"),
    ("locality", "2.5.4.7"),
    ("province", "2.5.4.8"),
    ("street_address", "2.5.4.9"),
    ("postal_code", "2.5.4.17"),
];

/// The fields of `subject`, as the checker declares them.
pub(super) const SUBJECT_FIELDS: [&str; 8] = [
    SUBJECT_OIDS[0].0,
    SUBJECT_OIDS[1].0,
    SUBJECT_OIDS[2].0,
    SUBJECT_OIDS[3].0,
    SUBJECT_OIDS[4].0,
    SUBJECT_OIDS[5].0,
    SUBJECT_OIDS[6].0,
    SUBJECT_OIDS[7].0,
];

/// The fields of each element of `subject_alt_names`.
pub(super) const SAN_FIELDS: [&str; 3] = ["type", "value", "oid"];

/// The bare identifiers a filter compares `type` with, each bound to its own name.
pub(super) const SAN_TYPES: [&str; 5] = ["DNS", "EMAIL", "IP_ADDRESS", "URI", "CUSTOM"];

/// The kind of a subject alternative name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectAlternativeNameType {
    Dns,
    Email,
    IpAddress,
    Uri,
    /// An `otherName`, identified by its type OID.
    Custom,
}

impl SubjectAlternativeNameType {
    /// The identifier filters compare with (`DNS`, `EMAIL`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "DNS",
            Self::Email => "EMAIL",
            Self::IpAddress => "IP_ADDRESS",
            Self::Uri => "URI",
            Self::Custom => "CUSTOM",
        }
    }
}

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectAlternativeName {
    pub kind: SubjectAlternativeNameType,
    /// The name as text: an IP address in its usual notation, an `otherName` value that is a
    /// string as that string and any other as the lowercase hex of its DER.
    pub value: String,
    /// The `otherName` type OID, dotted; empty for the other kinds.
    pub oid: String,
}

/// What a filter can read of a client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateAttributes {
    /// The subject's fields, in [`SUBJECT_OIDS`] order: the first value of each attribute, or
    /// the empty string when the subject has none.
    subject: [String; 8],
    subject_alt_names: Vec<SubjectAlternativeName>,
}

impl CertificateAttributes {
    /// Reads the attributes of the DER certificate `der`; `None` if it does not parse.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let mut subject: [String; 8] = Default::default();
        for attribute in cert.subject().iter_attributes() {
            let oid = attribute.attr_type().to_id_string();
            if let Some(i) = SUBJECT_OIDS.iter().position(|(_, want)| *want == oid)
                && subject[i].is_empty()
                && let Ok(text) = attribute.as_str()
            {
                text.clone_into(&mut subject[i]);
            }
        }
        let subject_alt_names = match cert.subject_alternative_name() {
            Ok(Some(extension)) => extension
                .value
                .general_names
                .iter()
                .filter_map(san)
                .collect(),
            _ => Vec::new(),
        };
        Some(Self {
            subject,
            subject_alt_names,
        })
    }

    /// The subject field `name` (one of the contract's), empty when absent.
    pub fn subject(&self, name: &str) -> Option<&str> {
        SUBJECT_OIDS
            .iter()
            .position(|(field, _)| *field == name)
            .map(|i| self.subject[i].as_str())
    }

    /// The subject alternative names, in certificate order.
    pub fn subject_alt_names(&self) -> &[SubjectAlternativeName] {
        &self.subject_alt_names
    }

    /// Binds `subject`, `subject_alt_names` and the type identifiers in `context`.
    pub(super) fn bind(&self, context: &mut Context<'_, '_>) {
        let subject: HashMap<&str, Value> = SUBJECT_OIDS
            .iter()
            .zip(&self.subject)
            .map(|((field, _), value)| (*field, Value::from(value.as_str())))
            .collect();
        context.add_variable_from_value("subject", subject);
        let names: Vec<Value> = self
            .subject_alt_names
            .iter()
            .map(|name| {
                Value::from(HashMap::from([
                    ("type", Value::from(name.kind.as_str())),
                    ("value", Value::from(name.value.as_str())),
                    ("oid", Value::from(name.oid.as_str())),
                ]))
            })
            .collect();
        context.add_variable_from_value("subject_alt_names", names);
        for kind in SAN_TYPES {
            context.add_variable_from_value(kind, kind);
        }
    }
}

/// A general name as a filter sees it; kinds OpenAI does not name (directory names, registered
/// ids, X.400 and EDI party names) are not shown.
fn san(name: &GeneralName<'_>) -> Option<SubjectAlternativeName> {
    let (kind, value, oid) = match name {
        GeneralName::DNSName(dns) => (SubjectAlternativeNameType::Dns, (*dns).to_owned(), ""),
        GeneralName::RFC822Name(email) => {
            (SubjectAlternativeNameType::Email, (*email).to_owned(), "")
        }
        GeneralName::URI(uri) => (SubjectAlternativeNameType::Uri, (*uri).to_owned(), ""),
        GeneralName::IPAddress(bytes) => {
            let address = match bytes.len() {
                4 => IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?),
                16 => IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?),
                _ => return None,
            };
            (
                SubjectAlternativeNameType::IpAddress,
                address.to_string(),
                "",
            )
        }
        GeneralName::OtherName(type_id, value) => {
            return Some(SubjectAlternativeName {
                kind: SubjectAlternativeNameType::Custom,
                value: other_name_value(value),
                oid: type_id.to_id_string(),
            });
        }
        _ => return None,
    };
    Some(SubjectAlternativeName {
        kind,
        value,
        oid: oid.to_owned(),
    })
}

/// An `otherName` value: `[0] EXPLICIT` around any DER value. A string type reads as its text;
/// anything else as the lowercase hex of its DER.
fn other_name_value(raw: &[u8]) -> String {
    let mut der = raw;
    if let Ok((_, outer)) = Any::from_der(raw)
        && outer.class() == Class::ContextSpecific
        && outer.tag() == Tag(0)
    {
        der = outer.data;
    }
    if let Ok((_, inner)) = Any::from_der(der)
        && inner.class() == Class::Universal
        && [
            Tag::Utf8String,
            Tag::Ia5String,
            Tag::PrintableString,
            Tag::VisibleString,
        ]
        .contains(&inner.tag())
        && let Ok(text) = std::str::from_utf8(inner.data)
    {
        return text.to_owned();
    }
    hex::encode(der)
}
