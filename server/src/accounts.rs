//! Local accounts and communities: creation rules shared by the command line and the API.

use crate::error::ApiError;
use chrono::Utc;
use copse_entities::{
    api_token,
    community::{self, MembershipPolicy, PostingPolicy, WelcomeMode},
    community_follower::{self, Role},
    local_user, person, DbUrl,
};
use copse_federation::{signatures::generate_keypair, urls::Urls, Data};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Names are lower-case letters, digits and `_`, 1 to 30 long: the WebFinger handle.
pub fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 30
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "use 1 to 30 lower-case letters, digits or _",
        ))
    }
}

/// True when a local person or community already has this name (they share one name space,
/// as Mastodon's `acct:` lookups need).
pub async fn name_taken(db: &impl ConnectionTrait, name: &str) -> Result<bool, sea_orm::DbErr> {
    let person = person::Entity::find()
        .filter(person::Column::Local.eq(true))
        .filter(person::Column::Name.eq(name))
        .one(db)
        .await?;
    if person.is_some() {
        return Ok(true);
    }
    Ok(community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .filter(community::Column::Name.eq(name))
        .one(db)
        .await?
        .is_some())
}

/// SHA-256 hex of a token, as stored.
pub fn token_hash(token: &str) -> String {
    openssl::sha::sha256(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random bearer token (64 hex digits).
pub(crate) fn new_token() -> Result<String, ApiError> {
    let mut buf = [0u8; 32];
    openssl::rand::rand_bytes(&mut buf).map_err(ApiError::internal)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates a local account and returns it with its bearer token (shown once).
pub async fn create_user(
    data: &Data,
    name: &str,
    admin: bool,
) -> Result<(person::Model, String), ApiError> {
    create_account(
        data,
        NewAccount {
            name,
            admin,
            ..NewAccount::default()
        },
    )
    .await
}

/// What a new account is made of besides its name.
#[derive(Debug, Default)]
pub struct NewAccount<'a> {
    /// Handle.
    pub name: &'a str,
    /// Instance administrator.
    pub admin: bool,
    /// Argon2 hash of the password, for accounts that sign in from a browser.
    pub password_hash: Option<String>,
    /// Waiting for an admin's approval.
    pub pending: bool,
    /// The answer to the sign-up question.
    pub answer: Option<String>,
}

/// Creates a local account (person, keys, account row) in one transaction and returns it with
/// its command-line bearer token (shown once).
pub async fn create_account(
    data: &Data,
    new: NewAccount<'_>,
) -> Result<(person::Model, String), ApiError> {
    let (name, admin) = (new.name, new.admin);
    check_name("name", name)?;
    let (public, private) = generate_keypair().map_err(ApiError::internal)?;
    let token = new_token()?;
    let urls = &data.urls;
    let id = urls.person(name);
    let now = Utc::now();
    let txn = copse_federation::context::begin(&data.db).await?;
    if name_taken(&txn, name).await? {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!("the name {name} is taken"),
        )
        .with_field("name"));
    }
    let person = person::Entity::insert(person::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(id.clone())),
        name: Set(name.to_string()),
        display_name: Set(None),
        summary: Set(None),
        inbox: Set(DbUrl(urls.person_part(name, "inbox"))),
        shared_inbox: Set(Some(DbUrl(urls.shared_inbox()))),
        key_id: Set(DbUrl(Urls::key_id(&id))),
        public_key_pem: Set(public),
        private_key_pem: Set(Some(private)),
        local: Set(true),
        published: Set(now),
        fetched_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    local_user::Entity::insert(local_user::ActiveModel {
        id: NotSet,
        person_id: Set(person.id),
        admin: Set(admin),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        password_hash: Set(new.password_hash),
        status: Set(if new.pending {
            local_user::AccountStatus::Pending
        } else {
            local_user::AccountStatus::Active
        }),
        sign_up_answer: Set(new.answer),
        email: Set(None),
        email_notifications: Set(local_user::EmailChoice::None),
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok((person, token))
}

/// What a new community is made of.
#[derive(Debug, Clone)]
pub struct NewCommunity {
    /// Handle.
    pub name: String,
    /// Title.
    pub title: String,
    /// Markdown summary.
    pub summary: Option<String>,
    /// The local person who creates it.
    pub owner: Option<i64>,
}

/// Creates a local community.
pub async fn create_community(
    data: &Data,
    new: NewCommunity,
) -> Result<community::Model, ApiError> {
    check_name("name", &new.name)?;
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ApiError::invalid(
            "title",
            "title must be 1 to 100 characters",
        ));
    }
    if new.summary.as_ref().is_some_and(|s| s.len() > 10_000) {
        return Err(ApiError::invalid(
            "summary",
            "summary must be at most 10000 bytes",
        ));
    }
    let (public, private) = generate_keypair().map_err(ApiError::internal)?;
    let urls = &data.urls;
    let id = urls.community(&new.name);
    let now = Utc::now();
    let txn = copse_federation::context::begin(&data.db).await?;
    if name_taken(&txn, &new.name).await? {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!("the name {} is taken", new.name),
        )
        .with_field("name"));
    }
    let community = community::Entity::insert(community::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(id.clone())),
        name: Set(new.name.clone()),
        title: Set(title.to_string()),
        summary: Set(new.summary.as_deref().map(crate::markdown::render_markdown)),
        inbox: Set(DbUrl(urls.community_part(&new.name, "inbox"))),
        shared_inbox: Set(Some(DbUrl(urls.shared_inbox()))),
        key_id: Set(DbUrl(Urls::key_id(&id))),
        public_key_pem: Set(public),
        private_key_pem: Set(Some(private)),
        local: Set(true),
        manually_approves_followers: Set(false),
        discoverable: Set(true),
        creator_id: Set(new.owner),
        published: Set(now),
        fetched_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    if let Some(owner) = new.owner {
        // The creator is its first coordinator.
        let follow_id = data.urls.new_activity("Follow");
        copse_federation::store::members::upsert_member(
            &txn,
            community.id,
            owner,
            &follow_id,
            false,
            Role::Coordinator,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(community)
}

/// Community settings a coordinator may change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitySettings {
    /// Title.
    pub title: Option<String>,
    /// Summary (markdown).
    pub summary: Option<String>,
    /// What the community sets out to achieve (markdown).
    pub purpose: Option<String>,
    /// Code of conduct and rules (markdown).
    pub rules: Option<String>,
    /// How decisions are made (markdown).
    pub decision_making: Option<String>,
    /// Languages, comma-separated tags like `en, cy`.
    pub languages: Option<String>,
    /// `open`, `approval` or `invite`.
    pub membership_policy: Option<MembershipPolicy>,
    /// Welcome template (`{name}`, `{title}` and `{rules}` are filled in).
    pub welcome_template: Option<String>,
    /// `public`, `direct` or `off`.
    pub welcome_mode: Option<WelcomeMode>,
    /// Who may start topics: `anyone`, `members` or `coordinators` (with facilitators).
    pub topic_policy: Option<PostingPolicy>,
    /// Who may reply: `anyone`, `members` or `coordinators` (with facilitators).
    pub reply_policy: Option<PostingPolicy>,
    /// Joining needs agreement to the code of conduct.
    pub require_rules_agreement: Option<bool>,
    /// The name of the local community this one sits under; empty for none.
    pub parent: Option<String>,
    /// Only members of the parent may join.
    pub parent_members_only: Option<bool>,
}

/// Applies settings to a community, checking each field, and federates what changed
/// (`Update{Group}`). `by` is the coordinator making the change, `None` from the command line.
pub async fn update_community(
    data: &Data,
    c: &community::Model,
    s: CommunitySettings,
    by: Option<&person::Model>,
) -> Result<community::Model, ApiError> {
    let long = |field: &str, v: &Option<String>, max: usize| -> Result<(), ApiError> {
        match v {
            Some(t) if t.len() > max => {
                Err(ApiError::invalid(field, format!("at most {max} bytes")))
            }
            _ => Ok(()),
        }
    };
    long("summary", &s.summary, 10_000)?;
    long("purpose", &s.purpose, 10_000)?;
    long("rules", &s.rules, 20_000)?;
    long("decision_making", &s.decision_making, 10_000)?;
    long("welcome_template", &s.welcome_template, 2_000)?;
    if let Some(t) = &s.title {
        if t.trim().is_empty() || t.trim().chars().count() > 100 {
            return Err(ApiError::invalid(
                "title",
                "title must be 1 to 100 characters",
            ));
        }
    }
    if let Some(l) = s.languages.as_ref().filter(|l| !l.trim().is_empty()) {
        let ok = l.split(',').map(str::trim).all(|tag| {
            !tag.is_empty()
                && tag.len() <= 12
                && tag
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        });
        if !ok {
            return Err(ApiError::invalid(
                "languages",
                "use comma-separated language tags like en, cy",
            ));
        }
    }
    let md = |v: Option<String>| {
        v.map(|t| {
            if t.trim().is_empty() {
                None
            } else {
                Some(crate::markdown::render_markdown(&t))
            }
        })
    };
    let parent = match &s.parent {
        Some(name) => Some(crate::subcommunities::parent_from_field(data, c, name, by).await?),
        None => None,
    };
    let mut row: community::ActiveModel = c.clone().into();
    if let Some(p) = parent {
        row.parent_ap_id = Set(p);
    }
    if let Some(only) = s.parent_members_only {
        row.parent_members_only = Set(only);
    }
    if let Some(t) = s.title {
        row.title = Set(t.trim().to_string());
    }
    if let Some(v) = md(s.summary) {
        row.summary = Set(v);
    }
    if let Some(v) = md(s.purpose) {
        row.purpose = Set(v);
    }
    if let Some(v) = md(s.rules) {
        row.rules = Set(v);
    }
    if let Some(v) = md(s.decision_making) {
        row.decision_making = Set(v);
    }
    if let Some(l) = s.languages {
        row.languages = Set(Some(
            l.split(',').map(str::trim).collect::<Vec<_>>().join(", "),
        ));
    }
    if let Some(p) = s.membership_policy {
        row.membership_policy = Set(p);
        row.manually_approves_followers = Set(p != MembershipPolicy::Open);
    }
    if let Some(w) = s.welcome_template {
        row.welcome_template = Set(if w.trim().is_empty() { None } else { Some(w) });
    }
    if let Some(m) = s.welcome_mode {
        row.welcome_mode = Set(m);
    }
    if let Some(p) = s.topic_policy {
        row.topic_policy = Set(p);
    }
    if let Some(p) = s.reply_policy {
        row.reply_policy = Set(p);
    }
    if let Some(r) = s.require_rules_agreement {
        row.require_rules_agreement = Set(r);
    }
    Ok(copse_federation::actions::profile::update_community(data, c, row, by).await?)
}

/// The local account a bearer token belongs to.
pub async fn user_by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(local_user::Model, person::Model)>, sea_orm::DbErr> {
    let hash = token_hash(token);
    let mut user = local_user::Entity::find()
        .filter(local_user::Column::TokenHash.eq(hash.as_str()))
        .one(db)
        .await?;
    if user.is_none() {
        // A token its owner made and named in their settings.
        if let Some(t) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(hash.as_str()))
            .one(db)
            .await?
        {
            let now = Utc::now();
            // Marked used at most hourly, so that reading stays a read.
            if t.last_used_at
                .is_none_or(|at| now - at > chrono::Duration::hours(1))
            {
                let mut row: api_token::ActiveModel = t.clone().into();
                row.last_used_at = Set(Some(now));
                api_token::Entity::update(row).exec(db).await?;
            }
            user = local_user::Entity::find_by_id(t.local_user_id)
                .one(db)
                .await?;
        }
    }
    let Some(user) = user.filter(|u| u.status == local_user::AccountStatus::Active) else {
        return Ok(None);
    };
    let person = person::Entity::find_by_id(user.person_id).one(db).await?;
    Ok(person.map(|p| (user, p)))
}

/// People by row id, in one query (for lists that name many people).
pub async fn people_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, person::Model>, sea_orm::DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// A local person by name.
pub async fn local_person(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<person::Model>, sea_orm::DbErr> {
    person::Entity::find()
        .filter(person::Column::Local.eq(true))
        .filter(person::Column::Name.eq(name))
        .one(db)
        .await
}

/// A local community by name.
pub async fn local_community(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<community::Model>, sea_orm::DbErr> {
    community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .filter(community::Column::Name.eq(name))
        .one(db)
        .await
}

/// Counts a community's accepted followers.
pub async fn follower_count(
    db: &impl sea_orm::ConnectionTrait,
    community_id: i64,
) -> Result<u64, ApiError> {
    use sea_orm::PaginatorTrait;
    Ok(community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::Pending.eq(false))
        .count(db)
        .await?)
}
