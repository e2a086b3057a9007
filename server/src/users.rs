//! Account management, for admins.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tocky_store::users::normalize_user_name;
use tocky_store::{Role, User};

use crate::auth::{Viewer, check_password, hash_password};
use crate::error::ApiError;
use crate::live::Revocation;
use crate::state::AppState;
use crate::{ApiJson, ApiPath};

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Json<Vec<User>>, ApiError> {
    viewer.require(Role::Admin)?;
    Ok(Json(state.with_store(|store, _| Ok(store.users()?)).await?))
}

/// `POST /api/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    username: String,
    password: String,
    role: Role,
}

/// Hashes on the blocking pool (argon2 takes tens of milliseconds of CPU),
/// under the cap on hashes computed at once.
async fn hash(state: &AppState, password: String) -> Result<String, ApiError> {
    check_password(&password)?;
    // Admins are logged in: they may take the reserved place.
    let slot = state.hash_slot(true)?;
    tokio::task::spawn_blocking(move || {
        let hash = hash_password(&password);
        drop(slot);
        hash
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

pub(crate) async fn add(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let admin = viewer.require(Role::Admin)?.name.clone();
    let hash = hash(&state, body.password).await?;
    let user = state
        .with_store(move |store, _| Ok(store.add_user(&body.username, &hash, body.role, &admin)?))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `PUT /api/users/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserChange {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    role: Option<Role>,
}

pub(crate) async fn change(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<UserChange>,
) -> Result<StatusCode, ApiError> {
    let admin = viewer.require(Role::Admin)?.name.clone();
    let name = normalize_user_name(&name);
    // As with removing: an admin who demoted themselves could leave nobody
    // able to manage accounts.
    if admin == name && body.role.is_some_and(|role| role < Role::Admin) {
        return Err(ApiError::BadRequest(
            "an admin cannot lower their own role".into(),
        ));
    }
    let hash = match body.password {
        Some(p) => Some(hash(&state, p).await?),
        None => None,
    };
    let changed = name.clone();
    let result = state
        .with_store(move |store, _| {
            if let Some(hash) = hash {
                store.set_password_hash(&name, &hash, &admin)?;
            }
            if let Some(role) = body.role {
                store.set_role(&name, role, &admin)?;
            }
            Ok(())
        })
        .await;
    // Even after a partial failure: what was changed is committed.
    state.revoke(Revocation::User(changed));
    result?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let admin = viewer.require(Role::Admin)?.name.clone();
    let name = normalize_user_name(&name);
    if admin == name {
        return Err(ApiError::BadRequest(
            "an admin cannot remove their own account".into(),
        ));
    }
    let removed = name.clone();
    state
        .with_store(move |store, _| Ok(store.remove_user(&name, &admin)?))
        .await?;
    state.revoke(Revocation::User(removed));
    Ok(StatusCode::NO_CONTENT)
}
