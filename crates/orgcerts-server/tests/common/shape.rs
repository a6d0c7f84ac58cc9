//! The shape test: every body the harness receives is checked against the official spec
//! extracts in `spec/`. A 2xx body must match the response schema of the operation its request
//! addressed; any other body must match `ErrorResponse`.
//!
//! The schemas are closed before use (`additionalProperties: false` on every object that lists
//! its properties): docs/contract.md promises that documented objects carry no extra fields. Its
//! exceptions are declared here explicitly: `has_more: false` on the four activation responses,
//! and the `attribute_filter` extension (a string or `null`) on `getCertificate`, which the
//! server adds only when `include[]=attribute_filter` asks for it (the tests that ask check its
//! presence and absence themselves; the path this check sees has no query).

use std::path::Path;
use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::{Map, Value, json};

/// The spec extracts the server implements, verbatim copies of OpenAI's extracts (spec/README.md).
const EXTRACTS: [&str; 5] = [
    "openai-certificates.openapi.yaml",
    "openai-projects.openapi.yaml",
    "openai-admin-api-keys.openapi.yaml",
    "openai-audit-logs.openapi.yaml",
    "openai-project-service-accounts.openapi.yaml",
];

/// docs/contract.md, "Certificates": the operation that may carry `attribute_filter`.
const FILTER_OPERATION: &str = "getCertificate";

/// docs/contract.md, "Activation": the one extra field allowed, for older async-openai releases.
const TOGGLE_RESPONSES: [&str; 4] = [
    "OrganizationCertificateActivationResponse",
    "OrganizationCertificateDeactivationResponse",
    "OrganizationProjectCertificateActivationResponse",
    "OrganizationProjectCertificateDeactivationResponse",
];

struct Operation {
    id: String,
    method: String,
    /// Path segments after `/v1`; `None` is a `{parameter}`.
    segments: Vec<Option<String>>,
    /// The schema of its 200 response.
    ok: Validator,
}

struct Spec {
    operations: Vec<Operation>,
    error: Validator,
}

static SPEC: LazyLock<Spec> = LazyLock::new(Spec::load);

impl Spec {
    fn load() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec");
        let mut schemas = Map::new();
        let mut raw_operations = Vec::new();
        for name in EXTRACTS {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
            let doc: Value = serde_norway::from_str(&text)
                .unwrap_or_else(|err| panic!("parsing {}: {err}", path.display()));
            for (key, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
                schemas.insert(key.clone(), schema.clone());
            }
            for (template, item) in doc["paths"].as_object().expect("paths") {
                for (method, op) in item.as_object().expect("path item") {
                    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
                    assert!(
                        schema.is_object(),
                        "{method} {template}: no 200 JSON schema"
                    );
                    raw_operations.push((
                        op["operationId"].as_str().expect("operationId").to_owned(),
                        method.to_uppercase(),
                        template.clone(),
                        schema.clone(),
                    ));
                }
            }
        }
        // `allOf` compositions (AdminApiKeyCreateResponse = AdminApiKey + `value`) are merged
        // into one object first: closing each branch alone would make them exclude each other.
        let originals = schemas.clone();
        for schema in schemas.values_mut() {
            merge_all_of(schema, &originals);
            close(schema);
        }
        for name in TOGGLE_RESPONSES {
            schemas[name]["properties"]["has_more"] = json!({"const": false});
        }
        let components = json!({ "schemas": schemas });
        let compile = |schema: &Value| {
            let mut root = schema.clone();
            close(&mut root);
            root["components"] = components.clone();
            jsonschema::draft202012::new(&root)
                .unwrap_or_else(|err| panic!("compiling {schema}: {err}"))
        };
        let operations = raw_operations
            .into_iter()
            .map(|(id, method, template, schema)| Operation {
                segments: template
                    .split('/')
                    .skip(1)
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect(),
                ok: compile(&schema),
                id,
                method,
            })
            .collect();
        Self {
            operations,
            error: compile(&json!({"$ref": "#/components/schemas/ErrorResponse"})),
        }
    }

    /// The operation a request addressed: the same method, and the path template that matches
    /// with the most literal segments (`/certificates/activate` over `/certificates/{id}`).
    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        // As the server does: repeated slashes collapse, everything under /v1.
        let path = path.strip_prefix("/v1").unwrap_or(path);
        if path.ends_with('/') {
            return None; // an empty last segment names nothing
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.operations
            .iter()
            .filter(|op| op.method == method && op.segments.len() == segments.len())
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&segments)
                    .all(|(want, got)| want.as_deref().is_none_or(|lit| lit == *got))
            })
            .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
    }
}

/// Replaces a top-level `allOf` of object schemas (resolving `#/components/schemas/…` refs) by
/// one object schema with the union of their properties and required fields.
fn merge_all_of(schema: &mut Value, components: &Map<String, Value>) {
    let Some(Value::Array(branches)) = schema.get("allOf").cloned() else {
        return;
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for branch in branches {
        let branch = match branch["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                components[name].clone()
            }
            None => branch,
        };
        if let Some(props) = branch["properties"].as_object() {
            properties.extend(props.clone());
        }
        if let Some(req) = branch["required"].as_array() {
            required.extend(req.iter().cloned());
        }
    }
    *schema = json!({"type": "object", "properties": properties, "required": required});
}

/// Closes every object schema that lists its properties, recursively through the keywords
/// the extracts use.
fn close(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for property in properties.values_mut() {
            close(property);
        }
        map.entry("additionalProperties").or_insert(json!(false));
    }
    if let Some(items) = map.get_mut("items") {
        close(items);
    }
    for keyword in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get_mut(keyword) {
            branches.iter_mut().for_each(close);
        }
    }
}

/// The operationId a request addresses, if any.
pub fn operation_id(method: &str, path: &str) -> Option<&'static str> {
    SPEC.operation(method, path).map(|op| op.id.as_str())
}

/// How many operations the extracts define.
pub fn operation_count() -> usize {
    SPEC.operations.len()
}

/// Panics, naming the operation and every violation, unless `body` is what the spec promises
/// for this request and status.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let spec = &*SPEC;
    let (what, validator) = if (200..300).contains(&status) {
        let op = spec.operation(method, path).unwrap_or_else(|| {
            panic!("{status} for {method} {path}, which is no operation of the spec; body: {body}")
        });
        (op.id.as_str(), &op.ok)
    } else {
        ("ErrorResponse", &spec.error)
    };
    let mut body = body.clone();
    if what == FILTER_OPERATION
        && let Some(filter) = body
            .as_object_mut()
            .and_then(|o| o.remove("attribute_filter"))
    {
        assert!(
            filter.is_string() || filter.is_null(),
            "attribute_filter is a string or null, not {filter}"
        );
    }
    let body = &body;
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|err| format!("  at '{}': {err}", err.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the {status} answer to {method} {path} does not match the spec's schema for {what}:\n{}\nbody: {body}",
        errors.join("\n")
    );
}
