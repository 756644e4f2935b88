//! Typed helpers for the calls tests make over and over (as the admin, or as the
//! webmail without a key), and the reads of stored state that tests check.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::{id_of, TestApp, STRONG_PASSWORD};

impl TestApp {
    pub async fn create_partner(&self, name: &str) -> String {
        let res = self
            .admin(Method::POST, "/v1/partners", Some(json!({ "name": name })))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        id_of(res).await
    }

    pub async fn create_customer(&self, name: &str, partner: Option<&str>) -> String {
        let res = self
            .admin(
                Method::POST,
                "/v1/customers",
                Some(json!({ "name": name, "partner_id": partner })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        id_of(res).await
    }

    pub async fn create_domain(&self, name: &str, customer: &str) -> Value {
        let res = self
            .admin(
                Method::POST,
                "/v1/domains",
                Some(json!({ "name": name, "customer_id": customer })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "creating domain {name}");
        res.json().await.unwrap()
    }

    /// Creates an account with the password `STRONG_PASSWORD`.
    pub async fn create_account(&self, domain: &str, local_part: &str) -> Value {
        let res = self
            .admin(
                Method::POST,
                &format!("/v1/domains/{domain}/accounts"),
                Some(json!({ "local_part": local_part, "password": STRONG_PASSWORD })),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "creating {local_part}@{domain}"
        );
        res.json().await.unwrap()
    }

    /// `PATCH /v1/accounts/{address}` with these changes.
    /// Creates an account with an imported `{SCHEME}` hash (migration).
    pub async fn import_account(&self, domain: &str, local_part: &str, hash: &str) -> Response {
        let body = json!({ "local_part": local_part, "password_hash": hash });
        self.admin(
            Method::POST,
            &format!("/v1/domains/{domain}/accounts"),
            Some(body),
        )
        .await
    }

    pub async fn update_account(&self, address: &str, changes: Value) -> Response {
        let path = format!("/v1/accounts/{address}");
        self.admin(Method::PATCH, &path, Some(changes)).await
    }

    pub async fn delete_account(&self, address: &str) -> Response {
        let path = format!("/v1/accounts/{address}");
        self.admin(Method::DELETE, &path, None).await
    }

    pub async fn restore_account(&self, address: &str) -> Response {
        let path = format!("/v1/accounts/{address}/restore");
        self.admin(Method::POST, &path, None).await
    }

    /// The Control Panel's password set: `PUT /v1/accounts/{address}/password`.
    pub async fn set_password(&self, address: &str, password: &str) -> Response {
        let path = format!("/v1/accounts/{address}/password");
        self.admin(Method::PUT, &path, Some(json!({ "password": password })))
            .await
    }

    /// The webmail's password change (`POST /v1/password-change`, no key), as JSON.
    pub async fn change_password(&self, address: &str, current: &str, new: &str) -> Response {
        let body = json!({"address": address, "current_password": current, "new_password": new});
        self.request(Method::POST, "/v1/password-change")
            .json(&body)
            .send()
            .await
    }

    /// The same change as an HTML form sends it.
    pub async fn change_password_by_form(
        &self,
        address: &str,
        current: &str,
        new: &str,
    ) -> Response {
        let fields = [
            ("address", address),
            ("current_password", current),
            ("new_password", new),
        ];
        self.request(Method::POST, "/v1/password-change")
            .form(&fields)
            .send()
            .await
    }

    /// The password hash stored for the account with this local part (any domain).
    pub async fn stored_hash(&self, local_part: &str) -> String {
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE local_part = $1")
            .bind(local_part)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// An account's audit trail, newest first.
    pub async fn audit_events(&self, address: &str) -> Value {
        self.admin_get_json(&format!("/v1/audit-events?account={address}"))
            .await
    }

    /// The actions of an account's audit trail, newest first.
    pub async fn audit_actions(&self, address: &str) -> Vec<String> {
        let events = self.audit_events(address).await;
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }
}
