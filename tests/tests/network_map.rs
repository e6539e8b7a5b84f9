//! The network map: a community's parent, its sub-communities, its partners (here and on another
//! server) and theirs, and the servers its members come from, as JSON, GraphML and SVG, and on a
//! page that says the same in words. Names others chose are escaped in every form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{builders::T, wait_for, TestInstance};
use reqwest::Method;
use serde_json::{json, Value};

async fn get(i: &TestInstance, path: &str) -> (u16, String, String) {
    let res = i.client.get(i.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_s_network_as_json_graphml_svg_and_a_page() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let alice = a.create_user("alice").await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(
        &alice,
        "london",
        json!({ "membership_policy": "open", "parent": "national", "title": "London <b>&</b> co" }),
    )
    .await;
    a.community_with(
        &alice,
        "camden",
        json!({ "membership_policy": "open", "parent": "london" }),
    )
    .await;
    a.community_with(&alice, "leeds", json!({ "membership_policy": "open" }))
        .await;
    let bea = b.create_user("bea").await;
    b.community_with(&bea, "york", json!({ "membership_policy": "open" }))
        .await;
    // London partners with leeds here and york on beta; leeds partners with camden.
    for (name, other) in [
        ("london", "leeds".to_string()),
        ("london", format!("york@{}", b.domain)),
        ("leeds", "camden".to_string()),
    ] {
        let (s, body) = a
            .api(
                Method::POST,
                &format!("/api/v1/communities/{name}/partners"),
                Some(&alice),
                Some(json!({ "community": other })),
            )
            .await;
        assert_eq!(s, 202, "{body}");
    }
    // Members from both servers.
    let bo = b.create_user("bo").await;
    let (s, _) = b.follow(&bo, format!("london@{}", a.domain)).await;
    assert_eq!(s, 202);
    wait_for("york's Accept and bo's membership", T, || async {
        let (_, _, m) = get(&a, "/c/london/network.json").await;
        let m: Value = serde_json::from_str(&m).unwrap_or(Value::Null);
        let edges = m["edges"].as_array().cloned().unwrap_or_default();
        edges.iter().filter(|e| e["kind"] == "partner").count() == 3
            && edges
                .iter()
                .any(|e| e["kind"] == "members" && e["target"] == format!("s:{}", b.domain))
    })
    .await;

    let (s, kind, body) = get(&a, "/c/london/network.json").await;
    assert_eq!((s, kind.starts_with("application/json")), (200, true));
    let m: Value = serde_json::from_str(&body).unwrap();
    let label = |id: &str| -> String {
        m["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["label"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let rel = |kind: &str| -> Vec<(String, String)> {
        m["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| {
                (
                    label(e["source"].as_str().unwrap()),
                    label(e["target"].as_str().unwrap()),
                )
            })
            .collect()
    };
    let centre: Vec<&Value> = m["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["center"] == true)
        .collect();
    assert_eq!(centre.len(), 1);
    assert_eq!(centre[0]["label"], "London <b>&</b> co");
    let mut parents = rel("parent");
    parents.sort();
    assert_eq!(
        parents,
        vec![
            ("London <b>&</b> co".to_string(), "The national".to_string()),
            ("The camden".to_string(), "London <b>&</b> co".to_string()),
        ]
    );
    let mut partners = rel("partner");
    partners.sort();
    assert_eq!(
        partners,
        vec![
            ("London <b>&</b> co".to_string(), "The leeds".to_string()),
            ("London <b>&</b> co".to_string(), "The york".to_string()),
            ("The leeds".to_string(), "The camden".to_string()),
        ]
    );
    let servers: Vec<(String, u64)> = m["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "members")
        .map(|e| {
            (
                e["target"].as_str().unwrap().to_string(),
                e["weight"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        servers.contains(&(format!("s:{}", a.domain), 1)),
        "{servers:?}"
    );
    assert!(
        servers.contains(&(format!("s:{}", b.domain), 1)),
        "{servers:?}"
    );

    // GraphML: the same nodes and edges, names escaped.
    let (s, kind, g) = get(&a, "/c/london/network.graphml").await;
    assert_eq!(
        (s, kind.starts_with("application/graphml+xml")),
        (200, true)
    );
    assert!(
        g.starts_with("<?xml")
            && g.contains("<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">")
    );
    assert_eq!(
        g.matches("<node ").count(),
        m["nodes"].as_array().unwrap().len()
    );
    assert_eq!(
        g.matches("<edge ").count(),
        m["edges"].as_array().unwrap().len()
    );
    assert!(g.contains("London &lt;b&gt;&amp;&lt;/b&gt; co") && !g.contains("<b>"));

    // SVG: laid out, every community drawn, names escaped, nothing that runs.
    let (s, kind, svg) = get(&a, "/c/london/network.svg").await;
    assert_eq!((s, kind.starts_with("image/svg+xml")), (200, true));
    assert!(svg.contains("<svg") && svg.contains("The national") && svg.contains("The york"));
    assert!(svg.contains("London &lt;b&gt;&amp;&lt;/b&gt; co") && !svg.contains("<b>"));
    assert!(!svg.contains("<script"));

    // The page: the picture, links to the data, and the relations in words.
    let (s, _, page) = get(&a, "/c/london/network").await;
    assert_eq!(s, 200);
    assert!(page.contains("src=\"/c/london/network.svg\""));
    assert!(page.contains("href=\"/c/london/network.graphml\""));
    assert!(
        page.contains("The camden sits under London &#60;b&#62;&#38;&#60;/b&#62; co"),
        "{page}"
    );
    assert!(!page.contains("<b>&</b>"));
    let (s, _, _) = get(&a, "/c/nowhere/network.svg").await;
    assert_eq!(s, 404);
}
