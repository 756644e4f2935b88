use super::*;

const SOURCES: [Tenanted; 9] = [
    PARTNERS,
    DOMAINS,
    CUSTOMERS,
    ACCOUNTS,
    ALIASES,
    API_KEYS,
    WEBHOOKS,
    AUDIT_EVENTS,
    FEED,
];

#[test]
fn every_statement_of_a_tenant_starts_with_its_owner() {
    let (p, c) = (Uuid::now_v7(), Uuid::now_v7());
    for source in SOURCES {
        let partner = Scoped::select("SELECT 1", &source, Reach::Partner(p));
        let opens = if source.owned_by_partners { "(" } else { "" };
        let expected = format!(
            "SELECT 1 FROM {} WHERE {opens}{} = $1",
            source.from, source.partner
        );
        assert!(partner.sql().starts_with(&expected), "{}", partner.sql());

        let customer = Scoped::delete(&source, Reach::Customer(c));
        let expected = format!("DELETE FROM {} WHERE {} = $1", source.from, source.customer);
        assert_eq!(customer.sql(), expected);

        let mut all = Scoped::update(&source, Reach::All, |set| {
            set.push("x = ").bind(1);
        });
        all.and("id = ").bind(p);
        let expected = format!("UPDATE {} SET x = $1 WHERE true AND id = $2", source.from);
        assert_eq!(all.sql(), expected);
    }
}

#[test]
fn a_partner_reaches_its_customers_rows_where_partners_own_rows_too() {
    let p = Uuid::now_v7();
    let mut q = Scoped::select("SELECT id", &API_KEYS, Reach::Partner(p));
    q.and("id = ").bind(p);
    assert_eq!(
        q.sql(),
        "SELECT id FROM api_keys WHERE (partner_id = $1 OR customer_id IN \
         (SELECT id FROM customers WHERE partner_id = $2)) AND id = $3"
    );
}

struct Row(Option<Uuid>, Uuid);
impl Owned for Row {
    fn owners(&self) -> (Option<Uuid>, Uuid) {
        (self.0, self.1)
    }
}

#[test]
fn a_row_in_memory_is_admitted_only_in_its_owners_reach() {
    let (p, c) = (Uuid::now_v7(), Uuid::now_v7());
    let other = Uuid::now_v7();
    assert!(admit(Reach::All, Row(Some(p), c)).is_some());
    assert!(admit(Reach::Partner(p), Row(Some(p), c)).is_some());
    assert!(admit(Reach::Customer(c), Row(Some(p), c)).is_some());
    assert!(admit(Reach::Partner(other), Row(Some(p), c)).is_none());
    assert!(admit(Reach::Partner(other), Row(None, c)).is_none());
    assert!(admit(Reach::Customer(other), Row(Some(p), c)).is_none());
}
