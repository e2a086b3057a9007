//! Who is asking ([`Viewer`]): what `auth::authenticate` finds for each
//! API request and hands to the handlers, and the role checks they make.
//! A leaf: it knows the account and the settings it was given, not the
//! server's state, so that middleware below the handlers (the rate
//! limiter) can read it too.

use tocky_store::{Role, User};

use crate::error::ApiError;

/// Who is asking: an account, or nobody.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The logged-in account.
    pub user: Option<User>,
    /// The login's CSRF token.
    pub csrf_token: Option<String>,
    /// The SHA-256 of the login's token.
    pub(crate) login: Option<String>,
    /// Whether reading is open to everyone.
    pub(crate) public_read: bool,
}

impl Viewer {
    /// The SHA-256 of the login's token, when logged in.
    pub(crate) fn login(&self) -> Option<&str> {
        self.login.as_deref()
    }

    /// The account, if it has at least `role`: 401 when nobody is logged
    /// in, 403 when the role is too low.
    pub fn require(&self, role: Role) -> Result<&User, ApiError> {
        let user = self.user.as_ref().ok_or(ApiError::Unauthorized)?;
        if user.role >= role {
            Ok(user)
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role; {} is a {}",
                role.as_str(),
                user.name,
                user.role.as_str()
            )))
        }
    }

    /// Whether this viewer may read the working record, drafts included:
    /// a login with the reader role or above (401 without one, whatever
    /// `public_read` says). Routes that serve only what is published ask
    /// [`Viewer::require_public`] instead, so that a route opens to the
    /// public only where it says so.
    pub fn require_read(&self) -> Result<(), ApiError> {
        self.require(Role::Reader).map(|_| ())
    }

    /// Whether this viewer may read published versions: anyone with
    /// `public_read`, else a reader or above.
    pub fn require_public(&self) -> Result<(), ApiError> {
        if self.public_read {
            Ok(())
        } else {
            self.require_read()
        }
    }

    /// Whether this viewer reads the working record (a logged-in reader or
    /// above), or only published versions (a visitor let in by
    /// `public_read`).
    pub fn sees_drafts(&self) -> bool {
        self.user.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        let viewer = |role| Viewer {
            user: Some(User {
                name: "u".into(),
                role,
                created_at: String::new(),
            }),
            ..Viewer::default()
        };
        assert!(viewer(Role::Admin).require(Role::Stenographer).is_ok());
        assert!(matches!(
            viewer(Role::Reader).require(Role::Stenographer),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            Viewer::default().require(Role::Reader),
            Err(ApiError::Unauthorized)
        ));
        assert!(Viewer::default().require_read().is_err());
        let public = Viewer {
            public_read: true,
            ..Viewer::default()
        };
        assert!(public.require_public().is_ok());
        assert!(!public.sees_drafts());
        assert!(matches!(public.require_read(), Err(ApiError::Unauthorized)));
        assert!(viewer(Role::Reader).require_public().is_ok());
        assert!(viewer(Role::Reader).sees_drafts());
        assert!(Viewer::default().require_public().is_err());
    }
}
