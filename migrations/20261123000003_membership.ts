// The account's membership tables as the Postscale app has them. Rows idsync derives from an IdP carry
// provenance (managed_by_connection_id, managed_by_rule, managed_by_run_id); rows without it are manual
// and the reconciler never touches them.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table memberships (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      user_id uuid not null references users on delete cascade,
      role text not null constraint memberships_role check (role in ('owner', 'admin', 'member')),
      status text not null default 'active' constraint memberships_status check (status in ('active', 'suspended')),
      suspended_at timestamptz,
      suspended_reason text,
      managed_by_connection_id uuid references directory_connections,
      managed_by_rule text,
      managed_by_run_id uuid references sync_runs,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint memberships_account_user_key unique (account_id, user_id)
    );
    create index memberships_user on memberships (user_id);

    -- Exactly one owner: at most one by this index; at least one (once the account has members) by the
    -- deferred trigger below, checked at commit so an ownership transfer can happen inside one transaction.
    create unique index memberships_one_owner on memberships (account_id) where role = 'owner';

    create function memberships_check_account_has_owner() returns trigger language plpgsql as $$
    declare
      acct uuid := coalesce(new.account_id, old.account_id);
    begin
      if exists (select 1 from memberships where account_id = acct)
         and not exists (select 1 from memberships where account_id = acct and role = 'owner') then
        raise exception 'account % would be left without an owner', acct
          using errcode = '23514', constraint = 'memberships_account_has_owner';
      end if;
      return null;
    end $$;
    create constraint trigger memberships_account_has_owner
      after insert or update or delete on memberships
      deferrable initially deferred
      for each row execute function memberships_check_account_has_owner();

    create table domain_grants (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      membership_id uuid not null references memberships on delete cascade,
      domain_id uuid not null references sending_domains on delete cascade,
      access text not null constraint domain_grants_access check (access in ('read', 'write')),
      managed_by_connection_id uuid references directory_connections,
      managed_by_rule text,
      managed_by_run_id uuid references sync_runs,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint domain_grants_membership_domain_key unique (membership_id, domain_id)
    );
    create index domain_grants_account on domain_grants (account_id);

    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      created_by_user_id uuid not null references users,
      name text not null,
      token_prefix text not null,
      secret_hash text not null constraint api_keys_secret_hash_key unique,
      scope text not null constraint api_keys_scope check (scope in ('organization', 'domains')),
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz,
      revoked_reason text,
      revoked_by_run_id uuid references sync_runs
    );
    create index api_keys_account_creator on api_keys (account_id, created_by_user_id);

    create table api_key_domains (
      api_key_id uuid not null references api_keys on delete cascade,
      domain_id uuid not null references sending_domains on delete cascade,
      primary key (api_key_id, domain_id)
    );

    create table sessions (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      user_id uuid not null references users on delete cascade,
      token_hash text not null constraint sessions_token_hash_key unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      last_seen_at timestamptz,
      revoked_at timestamptz,
      revoked_reason text
    );
    create index sessions_account_user on sessions (account_id, user_id);

    create table invitations (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      email text not null,
      role text not null constraint invitations_role check (role in ('admin', 'member')),
      invited_by_user_id uuid references users on delete set null,
      token_hash text not null constraint invitations_token_hash_key unique,
      status text not null default 'pending' constraint invitations_status check (status in ('pending', 'accepted', 'revoked', 'expired')),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      revoked_reason text
    );
    create index invitations_account_email on invitations (account_id, lower(email));

    -- Append-only. No foreign keys on provenance so the trail outlives what it describes.
    create table audit_log (
      id bigint generated always as identity primary key,
      account_id uuid not null,
      occurred_at timestamptz not null default now(),
      actor text not null,
      action text not null,
      target_type text not null,
      target_id text,
      before jsonb,
      after jsonb,
      connection_id uuid,
      rule text,
      run_id uuid
    );
    create index audit_log_account on audit_log (account_id, id desc);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table audit_log; drop table invitations; drop table sessions; drop table api_key_domains;
    drop table api_keys; drop table domain_grants; drop table memberships;
    drop function memberships_check_account_has_owner();
  `);
}
