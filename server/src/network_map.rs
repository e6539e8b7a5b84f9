//! The network a community is part of, as this server knows it: the communities above it, the
//! ones under it (two levels), its partners and their partners, and the servers its members come
//! from. One graph, written three ways: JSON, GraphML (for people who map networks in their own
//! tools, such as Gephi or yEd) and SVG, laid out by `layout-rs` (a Sugiyama layout, as
//! Graphviz's `dot` draws).

use crate::error::ApiError;
use copse_entities::{community, community_follower, person};
use copse_federation::html::escape_html as escape;
use copse_federation::{
    protocol::domain_of,
    store::{partners, tree},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Most communities drawn: a network beyond this is cut, nearest first.
const MAX_COMMUNITIES: usize = 60;

/// Most member servers drawn: the ones with the most members.
const MAX_SERVERS: usize = 20;

/// A community or a server in the map.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MapNode {
    /// `c{row id}` for a community, `s:{domain}` for a server.
    pub id: String,
    /// `community` or `server`.
    pub kind: &'static str,
    /// Its title, or the server's domain.
    pub label: String,
    /// Its page (communities) or its address (servers).
    pub url: String,
    /// Members known here (communities), or members of the community from it (servers).
    pub members: u64,
    /// The community the map is drawn for.
    pub center: bool,
}

/// A relation in the map.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MapEdge {
    /// The node it starts from.
    pub source: String,
    /// The node it goes to.
    pub target: String,
    /// `parent` (from a community to the one it sits under), `partner` (from the follower to
    /// the community it follows) or `members` (from the community to a server its members are
    /// on).
    pub kind: &'static str,
    /// Members, for `members`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
}

/// The network of one community.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkMap {
    /// Communities first (the centre first), then servers.
    pub nodes: Vec<MapNode>,
    /// Parents, partners, then members.
    pub edges: Vec<MapEdge>,
}

fn node_id(c: &community::Model) -> String {
    format!("c{}", c.id)
}

impl NetworkMap {
    /// Reads the network of `c`.
    pub async fn of(data: &Data, c: &community::Model) -> Result<Self, ApiError> {
        let mut communities: BTreeMap<i64, community::Model> = BTreeMap::new();
        let mut order: Vec<i64> = Vec::new();
        let mut edges: BTreeSet<(String, String, &'static str)> = BTreeSet::new();
        let add = |x: &community::Model,
                   communities: &mut BTreeMap<i64, community::Model>,
                   order: &mut Vec<i64>| {
            if !communities.contains_key(&x.id) && communities.len() < MAX_COMMUNITIES {
                communities.insert(x.id, x.clone());
                order.push(x.id);
            }
            communities.contains_key(&x.id)
        };
        add(c, &mut communities, &mut order);
        let mut at = c.clone();
        for parent in tree::ancestors(&data.db, c).await? {
            if add(&parent, &mut communities, &mut order) {
                edges.insert((node_id(&at), node_id(&parent), "parent"));
            }
            at = parent;
        }
        let mut level = vec![c.clone()];
        for _ in 0..2 {
            let mut next = Vec::new();
            for p in &level {
                for child in tree::children_of(&data.db, p).await? {
                    if add(&child, &mut communities, &mut order) {
                        edges.insert((node_id(&child), node_id(p), "parent"));
                        next.push(child);
                    }
                }
            }
            level = next;
        }
        // Partners, and theirs: the partnerships this server holds rows for.
        let mut ring = vec![c.clone()];
        for _ in 0..2 {
            let mut next = Vec::new();
            for x in &ring {
                for p in partners::of(&data.db, x)
                    .await?
                    .into_iter()
                    .filter(|p| !p.pending)
                {
                    let other = if p.follower_id == x.id {
                        p.followed_id
                    } else {
                        p.follower_id
                    };
                    let Some(o) = community::Entity::find_by_id(other).one(&data.db).await? else {
                        continue;
                    };
                    let fresh = !communities.contains_key(&o.id);
                    if add(&o, &mut communities, &mut order) {
                        let (from, to) = if p.follower_id == x.id {
                            (x, &o)
                        } else {
                            (&o, x)
                        };
                        edges.insert((node_id(from), node_id(to), "partner"));
                        if fresh {
                            next.push(o);
                        }
                    }
                }
            }
            ring = next;
        }
        let mut nodes = Vec::new();
        for id in &order {
            let x = &communities[id];
            nodes.push(MapNode {
                id: node_id(x),
                kind: "community",
                label: x.title.clone(),
                url: if x.local {
                    data.urls.community(&x.name).to_string()
                } else {
                    x.ap_id.to_string()
                },
                members: crate::accounts::follower_count(&data.db, x.id).await?,
                center: x.id == c.id,
            });
        }
        let mut edges: Vec<MapEdge> = edges
            .into_iter()
            .map(|(source, target, kind)| MapEdge {
                source,
                target,
                kind,
                weight: None,
            })
            .collect();
        edges.sort_by_key(|e| (e.kind != "parent", e.source.clone(), e.target.clone()));
        for (domain, count) in member_servers(data, c).await? {
            let id = format!("s:{domain}");
            nodes.push(MapNode {
                id: id.clone(),
                kind: "server",
                label: domain.clone(),
                url: format!("{}://{domain}/", data.urls.base().scheme()),
                members: count,
                center: false,
            });
            edges.push(MapEdge {
                source: node_id(c),
                target: id,
                kind: "members",
                weight: Some(count),
            });
        }
        Ok(Self { nodes, edges })
    }

    /// The map as GraphML, with each node's kind, label, address and members, and each edge's
    /// kind and weight.
    pub fn graphml(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
             <key id=\"kind\" for=\"all\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n\
             <key id=\"url\" for=\"node\" attr.name=\"url\" attr.type=\"string\"/>\n\
             <key id=\"members\" for=\"node\" attr.name=\"members\" attr.type=\"long\"/>\n\
             <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"long\"/>\n\
             <graph id=\"network\" edgedefault=\"directed\">\n",
        );
        for n in &self.nodes {
            out.push_str(&format!(
                "<node id=\"{}\"><data key=\"kind\">{}</data><data key=\"label\">{}</data>\
                 <data key=\"url\">{}</data><data key=\"members\">{}</data></node>\n",
                escape(&n.id),
                n.kind,
                escape(&n.label),
                escape(&n.url),
                n.members
            ));
        }
        for (i, e) in self.edges.iter().enumerate() {
            let weight = e
                .weight
                .map(|w| format!("<data key=\"weight\">{w}</data>"))
                .unwrap_or_default();
            out.push_str(&format!(
                "<edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"kind\">{}</data>{weight}</edge>\n",
                escape(&e.source),
                escape(&e.target),
                e.kind
            ));
        }
        out.push_str("</graph>\n</graphml>\n");
        out
    }
}

/// The servers the community's accepted members come from, with how many, most first.
async fn member_servers(data: &Data, c: &community::Model) -> Result<Vec<(String, u64)>, ApiError> {
    let ids: Vec<i64> = community_follower::Entity::find()
        .select_only()
        .column(community_follower::Column::PersonId)
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::Pending.eq(false))
        .into_tuple()
        .all(&data.db)
        .await?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let people = person::Entity::find()
            .filter(person::Column::Id.is_in(chunk.to_vec()))
            .all(&data.db)
            .await?;
        for p in people {
            let domain = if p.local {
                data.settings.domain.clone()
            } else {
                domain_of(&p.ap_id.0)
            };
            *counts.entry(domain).or_default() += 1;
        }
    }
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list.truncate(MAX_SERVERS);
    Ok(list)
}

impl NetworkMap {
    /// The map drawn as SVG: communities as boxes (the centre shaded), servers as ellipses, each
    /// relation an arrow with its kind. `layout-rs` escapes the labels it writes.
    pub fn svg(&self) -> String {
        use layout::{
            backends::svg::SVGWriter,
            core::{base::Orientation, color::Color, geometry::Point, style::StyleAttr},
            std_shapes::shapes::{Arrow, Element, ShapeKind},
            topo::layout::VisualGraph,
        };
        let mut vg = VisualGraph::new(Orientation::TopToBottom);
        let mut handles = BTreeMap::new();
        for n in &self.nodes {
            let label = format!("{} ({})", cut(&n.label), n.members);
            let width = 24.0 + 8.5 * label.chars().count() as f64;
            let (shape, fill) = match (n.kind, n.center) {
                ("server", _) => (ShapeKind::new_circle(&label), 0xeeeeee),
                (_, true) => (ShapeKind::new_box(&label), 0xfff3c4),
                _ => (ShapeKind::new_box(&label), 0xffffff),
            };
            let look = StyleAttr::new(
                Color::new(0x333333ff),
                2,
                Some(Color::new((fill << 8) | 0xff)),
                6,
                14,
            );
            let size = Point::new(width, 44.0);
            let h = vg.add_node(Element::create(shape, look, Orientation::TopToBottom, size));
            handles.insert(n.id.clone(), h);
        }
        for e in &self.edges {
            let (Some(from), Some(to)) = (handles.get(&e.source), handles.get(&e.target)) else {
                continue;
            };
            let text = match (e.kind, e.weight) {
                ("parent", _) => "sits under".to_string(),
                ("partner", _) => "partner".to_string(),
                (_, Some(w)) => format!("{w} member{}", if w == 1 { "" } else { "s" }),
                _ => String::new(),
            };
            vg.add_edge(Arrow::simple(&text), *from, *to);
        }
        let mut svg = SVGWriter::new();
        if !self.nodes.is_empty() {
            vg.do_it(false, false, false, &mut svg);
        }
        svg.finalize()
    }
}

/// A label short enough for a box.
fn cut(s: &str) -> String {
    let t: String = s.chars().take(40).collect();
    if t.chars().count() < s.chars().count() {
        format!("{t}…")
    } else {
        t
    }
}
