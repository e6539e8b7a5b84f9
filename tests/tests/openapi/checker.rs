//! The strict schema check of real answers, and the instance the answer tests call.

use super::document;
use copse_tests::TestInstance;
use reqwest::Method;
use serde_json::{json, Value};

/// Validates real answers against the document's schemas, made strict: an object schema that
/// lists its properties allows no others, so that a field sent but not documented fails too.
pub(crate) struct Checker {
    doc: Value,
    /// Components with strict objects, the root every `$ref` resolves against.
    components: Value,
}

fn strict(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let lists = map.contains_key("properties") && !map.contains_key("allOf");
            if lists && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

impl Checker {
    fn new() -> Self {
        let doc = document();
        let mut components = doc["components"].clone();
        strict(&mut components);
        Self { doc, components }
    }

    /// The schema documented for `status` of `method path`, or `None` for an answer without a
    /// body; panics when the status is not documented.
    fn schema(&self, method: &str, path: &str, status: u16) -> Option<Value> {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let answer = &op["responses"][status.to_string()];
        assert!(
            answer.is_object(),
            "{method} {path}: {status} not documented"
        );
        answer["content"]
            .get("application/json")
            .map(|c| c["schema"].clone())
    }

    /// The errors of `body` against the schema of `status` of `method path`.
    pub(crate) fn errors(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Vec<String> {
        let Some(mut schema) = self.schema(method, path, status) else {
            assert!(
                body.is_null() || body == "",
                "{method} {path} {status} documents no body but sent {body}"
            );
            return Vec::new();
        };
        strict(&mut schema);
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.components,
        });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{method} {path} {status}: bad schema: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// Asserts that a real answer matches its documented schema.
    fn check(&self, method: &str, path: &str, answer: (u16, Value)) -> Value {
        let (status, body) = answer;
        let errors = self.errors(method, path, status, &body);
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:#?}\n{body:#}"
        );
        body
    }
}

/// Alpha with ana coordinating "garden", max a listed member of it, and a topic by ana with
/// a reply by max.
pub(crate) struct Garden {
    pub(crate) a: TestInstance,
    pub(crate) ana: String,
    pub(crate) max: String,
    pub(crate) topic: i64,
    pub(crate) reply: i64,
    pub(crate) check: Checker,
}

impl Garden {
    pub(crate) async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let check = Checker::new();
        let ana = a.create_user("ana").await;
        let max = a.create_user("max").await;
        let created = a
            .api(
                Method::POST,
                "/api/v1/communities",
                Some(&ana),
                Some(json!({ "name": "garden", "title": "The garden", "summary": "Growing *things*" })),
            )
            .await;
        check.check("post", "/api/v1/communities", created);
        let joined = a
            .api(
                Method::POST,
                "/api/v1/follows",
                Some(&max),
                Some(json!({ "community": "garden", "listed": true })),
            )
            .await;
        check.check("post", "/api/v1/follows", joined);
        let topic = check.check(
            "post",
            "/api/v1/communities/{name}/posts",
            a.api(
                Method::POST,
                "/api/v1/communities/garden/posts",
                Some(&ana),
                Some(json!({ "title": "Seeds", "content": "Which #seeds, @max?" })),
            )
            .await,
        );
        let topic = topic["local_id"].as_i64().unwrap();
        let reply = check.check(
            "post",
            "/api/v1/posts/{id}/replies",
            a.api(
                Method::POST,
                &format!("/api/v1/posts/{topic}/replies"),
                Some(&max),
                Some(json!({ "content": "Beans." })),
            )
            .await,
        );
        let reply = reply["local_id"].as_i64().unwrap();
        Self {
            a,
            ana,
            max,
            topic,
            reply,
            check,
        }
    }

    /// Calls `method path` (a template) at `real` and checks the answer against its schema.
    pub(crate) async fn call(
        &self,
        method: Method,
        template: &str,
        real: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let answer = self.a.api(method.clone(), real, token, body).await;
        let lower = method.as_str().to_lowercase();
        let template = template.split('?').next().unwrap_or(template);
        self.check.check(&lower, template, answer)
    }
}
