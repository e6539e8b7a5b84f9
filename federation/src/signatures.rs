//! HTTP signatures (draft-cavage), signed and verified with openssl.
//!
//! We sign and verify ourselves instead of through the federation crate: openssl is several
//! times faster than the pure-Rust `rsa` crate, and the crate's verifier lacks Mastodon's time
//! window, refuses digest-less signed GETs, and does not check freshness when `date` is unsigned.

use chrono::{DateTime, Duration, Utc};
use http::HeaderMap;
use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Private, Public},
    rsa::Rsa,
    sign::{Signer, Verifier},
};
use std::fmt::Write as _;
use url::Url;

/// How long after its creation a signature stays valid when it names no `(expires)` (Mastodon).
const DEFAULT_LIFETIME: Duration = Duration::minutes(5);
/// The longest lifetime a signature may claim (Mastodon).
const MAX_LIFETIME: Duration = Duration::hours(12);
/// Clock skew tolerated in either direction (Mastodon).
const CLOCK_SKEW: Duration = Duration::hours(1);

/// Why a signature was refused. Every variant maps to HTTP 401.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    /// No `Signature` header at all.
    #[error("request is not signed")]
    Missing,
    /// The `Signature` header could not be parsed.
    #[error("malformed Signature header: {0}")]
    Malformed(&'static str),
    /// The algorithm is not `rsa-sha256` or `hs2019`.
    #[error("unsupported signature algorithm")]
    Algorithm,
    /// A header that must be signed is not among the signed headers.
    #[error("signature must cover {0}")]
    HeaderNotSigned(&'static str),
    /// A signed header is absent from the request.
    #[error("signed header {0} is missing from the request")]
    HeaderMissing(String),
    /// The signature is too old, from the future, or its date cannot be read.
    #[error("signature is outside the accepted time window")]
    TimeWindow,
    /// The `Digest` header does not match the body, or uses an unsupported algorithm.
    #[error("digest does not match body")]
    Digest,
    /// The cryptographic check failed.
    #[error("signature does not verify")]
    Invalid,
    /// The public key could not be read.
    #[error("signer's public key cannot be read")]
    BadKey,
    /// The signed `Host` is not this instance: a request replayed from elsewhere.
    #[error("request was not addressed to this host")]
    WrongHost,
    /// The key id is not on the actor's origin, or is not the actor's key.
    #[error("request was signed by a key that does not belong to the actor")]
    KeyNotActors,
    /// The signer's key could not be fetched.
    #[error("signer's key could not be fetched")]
    KeyUnavailable,
}

/// The parsed parameters of a `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    /// The key id, usually `actor#main-key`.
    pub key_id: Url,
    /// The algorithm, if named.
    pub algorithm: Option<String>,
    /// The signed headers, lower-cased, in order.
    pub headers: Vec<String>,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// The `created` parameter, seconds since the epoch.
    pub created: Option<i64>,
    /// The `expires` parameter, seconds since the epoch.
    pub expires: Option<i64>,
}

impl ParsedSignature {
    /// Parses the value of a `Signature` header.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let mut key_id = None;
        let mut algorithm = None;
        let mut headers = None;
        let mut signature = None;
        let mut created = None;
        let mut expires = None;
        let mut rest = value.trim();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or(SignatureError::Malformed("expected key=value"))?;
            let key = rest[..eq].trim().to_ascii_lowercase();
            rest = &rest[eq + 1..];
            let val;
            if let Some(stripped) = rest.strip_prefix('"') {
                let end = stripped
                    .find('"')
                    .ok_or(SignatureError::Malformed("unterminated quote"))?;
                val = &stripped[..end];
                rest = stripped[end + 1..].trim_start();
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                val = rest[..end].trim();
                rest = &rest[end..];
            }
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
            match key.as_str() {
                "keyid" => key_id = Some(val.to_string()),
                "algorithm" => algorithm = Some(val.to_ascii_lowercase()),
                "headers" => headers = Some(val.to_ascii_lowercase()),
                "signature" => signature = Some(val.to_string()),
                "created" => created = Some(parse_seconds(val)?),
                "expires" => expires = Some(parse_seconds(val)?),
                _ => {}
            }
        }
        let key_id = key_id.ok_or(SignatureError::Malformed("keyId missing"))?;
        let key_id =
            Url::parse(&key_id).map_err(|_| SignatureError::Malformed("keyId is not a URL"))?;
        let signature = signature.ok_or(SignatureError::Malformed("signature missing"))?;
        let signature = openssl::base64::decode_block(&signature)
            .map_err(|_| SignatureError::Malformed("signature is not base64"))?;
        // draft-cavage: without `headers`, only `date` (or `(created)`) is signed.
        let headers = headers
            .unwrap_or_else(|| "date".to_string())
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect();
        if let Some(alg) = &algorithm {
            if alg != "rsa-sha256" && alg != "hs2019" {
                return Err(SignatureError::Algorithm);
            }
        }
        Ok(Self {
            key_id,
            algorithm,
            headers,
            signature,
            created,
            expires,
        })
    }

    fn signs(&self, header: &str) -> bool {
        self.headers.iter().any(|h| h == header)
    }
}

fn parse_seconds(val: &str) -> Result<i64, SignatureError> {
    // Some servers send fractional seconds.
    val.split('.')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(SignatureError::Malformed("created/expires is not a number"))
}

/// The parts of an HTTP request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// Method, any case.
    pub method: &'a str,
    /// Path and query as sent, e.g. `/inbox` or `/users/a?page=1`.
    pub path_and_query: &'a str,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The body, for POST.
    pub body: Option<&'a [u8]>,
}

/// Checks everything about a signed request that needs no key: the header parses, the right
/// headers are signed (`(request-target)`, `host`, `date` or `(created)`, and `digest` on POST),
/// the time window, and the digest against the body. Returns the parsed signature.
pub fn precheck(
    req: &RequestParts<'_>,
    now: DateTime<Utc>,
) -> Result<ParsedSignature, SignatureError> {
    let value = req
        .headers
        .get("signature")
        .ok_or(SignatureError::Missing)?
        .to_str()
        .map_err(|_| SignatureError::Malformed("not ASCII"))?;
    let sig = ParsedSignature::parse(value)?;
    if !sig.signs("(request-target)") {
        return Err(SignatureError::HeaderNotSigned("(request-target)"));
    }
    if !sig.signs("host") {
        return Err(SignatureError::HeaderNotSigned("host"));
    }
    if !sig.signs("date") && !sig.signs("(created)") {
        return Err(SignatureError::HeaderNotSigned("date or (created)"));
    }
    let is_post = req.method.eq_ignore_ascii_case("POST");
    if is_post && !sig.signs("digest") {
        return Err(SignatureError::HeaderNotSigned("digest"));
    }
    check_time_window(&sig, req.headers, now)?;
    if sig.signs("digest") || is_post {
        verify_digest(req.headers, req.body.unwrap_or_default())?;
    }
    Ok(sig)
}

/// Applies Mastodon's time window: created no more than 1 h in the future, and not past its
/// expiry (default 5 min, at most 12 h) by more than 1 h.
pub fn check_time_window(
    sig: &ParsedSignature,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let created = if sig.signs("(created)") {
        let secs = sig.created.ok_or(SignatureError::TimeWindow)?;
        DateTime::from_timestamp(secs, 0).ok_or(SignatureError::TimeWindow)?
    } else {
        let date = headers
            .get("date")
            .and_then(|d| d.to_str().ok())
            .ok_or(SignatureError::TimeWindow)?;
        DateTime::parse_from_rfc2822(date)
            .map_err(|_| SignatureError::TimeWindow)?
            .with_timezone(&Utc)
    };
    let expires = match sig.expires {
        Some(secs) => DateTime::from_timestamp(secs, 0).ok_or(SignatureError::TimeWindow)?,
        None => created + DEFAULT_LIFETIME,
    }
    .min(created + MAX_LIFETIME);
    if created > now + CLOCK_SKEW || now > expires + CLOCK_SKEW {
        return Err(SignatureError::TimeWindow);
    }
    Ok(())
}

/// The `Digest` header value for a body: `SHA-256=<base64>`.
pub fn digest_header(body: &[u8]) -> String {
    format!(
        "SHA-256={}",
        openssl::base64::encode_block(&openssl::sha::sha256(body))
    )
}

/// Checks that a SHA-256 entry of the `Digest` header matches the body.
pub fn verify_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let value = headers
        .get("digest")
        .and_then(|d| d.to_str().ok())
        .ok_or(SignatureError::Digest)?;
    let expected = openssl::sha::sha256(body);
    let matches = value.split(',').any(|part| {
        let part = part.trim();
        match part.split_once('=') {
            Some((alg, b64)) if alg.eq_ignore_ascii_case("sha-256") => {
                openssl::base64::decode_block(b64).is_ok_and(|got| got == expected)
            }
            _ => false,
        }
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Digest)
    }
}

/// Builds the string that is signed, from the signed header names.
pub fn signing_string(
    sig: &ParsedSignature,
    req: &RequestParts<'_>,
) -> Result<String, SignatureError> {
    let mut out = String::new();
    for (i, name) in sig.headers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match name.as_str() {
            "(request-target)" => {
                let _ = write!(
                    out,
                    "(request-target): {} {}",
                    req.method.to_ascii_lowercase(),
                    req.path_and_query
                );
            }
            "(created)" => {
                let created = sig
                    .created
                    .ok_or(SignatureError::HeaderMissing(name.clone()))?;
                let _ = write!(out, "(created): {created}");
            }
            "(expires)" => {
                let expires = sig
                    .expires
                    .ok_or(SignatureError::HeaderMissing(name.clone()))?;
                let _ = write!(out, "(expires): {expires}");
            }
            header => {
                let values: Vec<&str> = req
                    .headers
                    .get_all(header)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(str::trim)
                    .collect();
                if values.is_empty() {
                    return Err(SignatureError::HeaderMissing(header.to_string()));
                }
                let _ = write!(out, "{header}: {}", values.join(", "));
            }
        }
    }
    Ok(out)
}

/// A parsed public key, kept in caches so that verifying does not re-read PEM.
#[derive(Clone)]
pub struct PublicKey(PKey<Public>);

impl PublicKey {
    /// Reads a PEM public key (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, SignatureError> {
        PKey::public_key_from_pem(pem.as_bytes())
            .or_else(|_| Rsa::public_key_from_pem_pkcs1(pem.as_bytes()).and_then(PKey::from_rsa))
            .map(Self)
            .map_err(|_| SignatureError::BadKey)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey")
    }
}

/// Verifies the signature of a prechecked request with the signer's public key.
pub fn verify(
    sig: &ParsedSignature,
    req: &RequestParts<'_>,
    key: &PublicKey,
) -> Result<(), SignatureError> {
    let text = signing_string(sig, req)?;
    let mut verifier =
        Verifier::new(MessageDigest::sha256(), &key.0).map_err(|_| SignatureError::BadKey)?;
    verifier
        .update(text.as_bytes())
        .map_err(|_| SignatureError::Invalid)?;
    match verifier.verify(&sig.signature) {
        Ok(true) => Ok(()),
        _ => Err(SignatureError::Invalid),
    }
}

/// A private key with the key id that names it, used to sign requests.
#[derive(Clone)]
pub struct SigningKey {
    key_id: Url,
    key: PKey<Private>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.key_id)
    }
}

/// Headers to add to a signed request.
#[derive(Debug, Clone)]
pub struct SignedHeaders {
    /// The `Date` header.
    pub date: String,
    /// The `Digest` header (POST only).
    pub digest: Option<String>,
    /// The `Signature` header.
    pub signature: String,
}

impl SigningKey {
    /// Reads a PEM private key (PKCS#8 or PKCS#1).
    pub fn from_pem(key_id: Url, pem: &str) -> Result<Self, SignatureError> {
        let key = PKey::private_key_from_pem(pem.as_bytes()).map_err(|_| SignatureError::BadKey)?;
        Ok(Self { key_id, key })
    }

    /// The key id this key signs as.
    pub fn key_id(&self) -> &Url {
        &self.key_id
    }

    /// Signs a request the way Mastodon does: `(request-target) host date digest` on POST,
    /// `(request-target) host date` on GET.
    pub fn sign(
        &self,
        method: &str,
        url: &Url,
        body: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<SignedHeaders, SignatureError> {
        let digest = body.map(digest_header);
        self.sign_with_digest(method, url, digest.as_deref(), now)
    }

    /// Like [`SigningKey::sign`], with the body's `Digest` header already computed, so that
    /// one body sent to many inboxes is hashed once.
    pub fn sign_with_digest(
        &self,
        method: &str,
        url: &Url,
        digest: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SignedHeaders, SignatureError> {
        let date = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let host = host_header(url);
        let path = path_and_query(url);
        let mut text = format!(
            "(request-target): {} {path}\nhost: {host}\ndate: {date}",
            method.to_ascii_lowercase()
        );
        let mut names = "(request-target) host date";
        if let Some(d) = digest {
            text.push_str("\ndigest: ");
            text.push_str(d);
            names = "(request-target) host date digest";
        }
        let mut signer =
            Signer::new(MessageDigest::sha256(), &self.key).map_err(|_| SignatureError::BadKey)?;
        signer
            .update(text.as_bytes())
            .map_err(|_| SignatureError::BadKey)?;
        let raw = signer.sign_to_vec().map_err(|_| SignatureError::BadKey)?;
        let signature = format!(
            "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{names}\",signature=\"{}\"",
            self.key_id,
            openssl::base64::encode_block(&raw)
        );
        Ok(SignedHeaders {
            date,
            digest: digest.map(str::to_string),
            signature,
        })
    }
}

/// The request target of a URL: its path, and `?` and the query when there is one.
pub fn path_and_query(url: &Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

/// The `Host` header value for a URL: host, plus the port when it is not the default.
pub fn host_header(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// A freshly generated RSA-2048 key pair, as PEM strings (public SPKI, private PKCS#8).
pub fn generate_keypair() -> Result<(String, String), openssl::error::ErrorStack> {
    let rsa = Rsa::generate(2048)?;
    let key = PKey::from_rsa(rsa)?;
    let public = String::from_utf8_lossy(&key.public_key_to_pem()?).into_owned();
    let private = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    Ok((public, private))
}

#[cfg(test)]
mod tests;
