//! The OpenAPI 3.0 document of the site API (`openapi.json`, served at
//! `/api/v1/openapi.json`). The tests keep it in step with the routes of
//! `api.rs`.

/// The document as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every route of `api.rs` with its methods.
    const ROUTES: &[(&str, &[&str])] = &[
        ("/api/v1/health", &["get"]),
        ("/api/v1/metrics", &["get"]),
        ("/api/v1/openapi.json", &["get"]),
        ("/api/v1/scans", &["post"]),
        ("/api/v1/scans/image", &["post"]),
        ("/api/v1/stations", &["get"]),
        ("/api/v1/stations/{id}/context", &["get", "put"]),
        ("/api/v1/stations/{id}/glance", &["get"]),
        ("/api/v1/handhelds/enrol", &["post"]),
        ("/api/v1/handhelds/me", &["get"]),
        ("/api/v1/products", &["get", "post"]),
        ("/api/v1/holds", &["get", "post"]),
        ("/api/v1/holds/{id}/release", &["post"]),
        ("/api/v1/picklists", &["get", "post"]),
        ("/api/v1/journal", &["get"]),
        ("/api/v1/corrections", &["post"]),
        ("/api/v1/events", &["get"]),
        ("/api/v1/reports/{kind}", &["get"]),
        ("/api/v1/sync", &["get"]),
        ("/api/v1/sync/resume", &["post"]),
    ];

    fn document() -> Value {
        serde_json::from_str(super::DOCUMENT).expect("openapi.json is JSON")
    }

    #[test]
    fn every_route_is_documented_with_its_methods() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in ROUTES {
            let item = paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is not in openapi.json"));
            for m in *methods {
                assert!(item.get(*m).is_some(), "{m} {path} is not in openapi.json");
            }
        }
        assert_eq!(
            paths.len(),
            ROUTES.len(),
            "openapi.json documents a route api.rs lacks"
        );
    }

    /// The list above is the list of `.route(...)` calls in `api.rs`: a new
    /// route fails this test until it is listed (and documented).
    #[test]
    fn the_route_list_matches_api_rs() {
        // The site's routes: its own API and the sync link's status.
        let source = [include_str!("api.rs"), include_str!("../sync/status.rs")].concat();
        let mut registered: Vec<&str> = source
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            .collect();
        registered.sort_unstable();
        // A path's methods may be routed apart (by the role they need).
        registered.dedup();
        let mut listed: Vec<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
        listed.sort_unstable();
        assert_eq!(registered, listed);
    }

    #[test]
    fn references_resolve_and_auth_is_bearer() {
        let doc = document();
        let schemes = &doc["components"]["securitySchemes"]["bearer"];
        assert_eq!(schemes["scheme"], "bearer");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for kind in ["schemas", "responses"] {
            let defined = doc["components"][kind].as_object().unwrap();
            for name in super::DOCUMENT
                .split(&format!("\"#/components/{kind}/"))
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
            {
                assert!(defined.contains_key(name), "no {kind} {name}");
            }
        }
        let answer = &schemas["Answer"]["properties"];
        for field in ["accepted", "movement", "code", "reason", "warnings"] {
            assert!(answer.get(field).is_some(), "Answer.{field}");
        }
        let events = &doc["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"];
        assert!(events.get("text/event-stream").is_some());
        for open in ["/api/v1/health", "/api/v1/metrics", "/api/v1/openapi.json"] {
            assert_eq!(doc["paths"][open]["get"]["security"], serde_json::json!([]));
        }
        // The one-time code is the enrolment's credential.
        assert_eq!(
            doc["paths"]["/api/v1/handhelds/enrol"]["post"]["security"],
            serde_json::json!([])
        );
    }

    /// Every error answer is documented as an RFC 7807 problem, and every
    /// route behind a token documents the 401.
    #[test]
    fn errors_are_problem_documents() {
        let doc = document();
        let problem = serde_json::json!({"$ref": "#/components/schemas/Problem"});
        for (path, methods) in ROUTES {
            for m in *methods {
                let op = &doc["paths"][*path][*m];
                let responses = op["responses"].as_object().unwrap();
                for (status, r) in responses {
                    // Health's 503 is a status report, not a problem.
                    if status.as_str() < "400" || *path == "/api/v1/health" {
                        continue;
                    }
                    let r = match r["$ref"].as_str() {
                        Some(to) => {
                            &doc["components"]["responses"]
                                [to.trim_start_matches("#/components/responses/")]
                        }
                        None => r,
                    };
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"], problem,
                        "{m} {path} {status}"
                    );
                    assert_eq!(
                        r["content"].as_object().unwrap().len(),
                        1,
                        "{m} {path} {status}"
                    );
                }
                if op["security"] != serde_json::json!([]) {
                    assert!(responses.contains_key("401"), "{m} {path} lacks 401");
                }
            }
        }
    }
}
