-- A mailbox's storage belongs to the account, not to its address: the home (and
-- Postfix's maildir) is named by the account's id. Before, it was named by the
-- address, so an address purged and created anew opened the old owner's mail.
-- Existing installations move their maildirs once: see deploy/UPGRADING.md.
CREATE OR REPLACE VIEW mailserver.dovecot_userdb AS
    SELECT a.address AS username,
           '/var/vmail/' || a.id AS home,
           '*:storage=' || a.quota_mb || 'M' AS quota_rule
    FROM accounts a JOIN domains d ON d.id = a.domain_id
    WHERE a.deleted_at IS NULL;

CREATE OR REPLACE VIEW mailserver.postfix_mailboxes AS
    SELECT a.address, a.id || '/Maildir/' AS maildir
    FROM accounts a JOIN domains d ON d.id = a.domain_id
    WHERE a.deleted_at IS NULL;
