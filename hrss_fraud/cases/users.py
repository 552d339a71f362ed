"""Dashboard accounts and what each role may do, kept in the case store's ``users`` table.

Passwords are stored only as werkzeug scrypt hashes (salted, deliberately slow), so a
copied database does not give the passwords away. Accounts are disabled, never deleted:
the decisions and the audit log keep naming them. Every change writes its audit-log row
in the same transaction as the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from werkzeug.security import generate_password_hash

from hrss_fraud.cases.sessions import revoke_user
from hrss_fraud.cases.store import CaseStore, timestamp, write_audit
from hrss_fraud.cases.vocab import STEPS, normalise

ROLES: dict[str, tuple[str, str]] = {
    "auditor": ("稽核员", "auditor"),
    "reviewer": ("审核员", "reviewer"),
    "supervisor": ("审核负责人", "supervisor"),
    "admin": ("系统管理员", "administrator"),
}
"""Role code → (Chinese, English), least to most trusted; migration 0002 seeds the same."""

PERMISSIONS: dict[str, tuple[str, str]] = {
    "view_leads": ("查看疑点", "view leads"),
    "view_identity": ("查看未脱敏身份信息", "view unmasked identities"),
    "decide_first_review": ("初审决定", "decide first review"),
    "decide_second_review": ("复审及后续环节决定", "decide second review and later steps"),
    "change_parameters": ("修改规则参数与时限", "change rule parameters and deadlines"),
    "manage_inspections": (
        "安排现场检查、下达违约通知单",
        "plan inspection rounds and issue violation notices",
    ),
    "browse_audit": ("查阅审计日志", "browse the audit log"),
    "manage_users": ("管理用户", "manage users"),
}
"""Permission code → (Chinese, English)."""

GRANTS: dict[str, frozenset[str]] = {
    "auditor": frozenset({"view_leads"}),
    "reviewer": frozenset({"view_leads", "view_identity", "decide_first_review"}),
    "supervisor": frozenset(
        {
            "view_leads",
            "view_identity",
            "decide_first_review",
            "decide_second_review",
            "change_parameters",
            "manage_inspections",
        }
    ),
    # The administrator runs the system, not the cases: no identities, no decisions, so
    # whoever reads the audit log is not the one it is mostly about.
    "admin": frozenset({"view_leads", "browse_audit", "manage_users"}),
}
"""Role → its permissions. Only people who handle a case see whom it is about (PIPL)."""

STEP_PERMISSION: dict[str, str] = {
    step: "decide_first_review" if step == "first_review" else "decide_second_review"
    for step in STEPS
}
"""Review step → the permission that decides it: 复审 and every later step go to supervisors."""

MIN_PASSWORD_LENGTH = 10
HASH_METHOD = "scrypt"
_USERNAME = re.compile(r"^[\w.\-]{2,32}$")
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "1q2w3e4r5t",
        "a123456789",
        "abc1234567",
        "admin12345",
        "admin@1234",
        "qwerty123456",
        "iloveyou123",
        "woaini1314",
        "88888888888",
    }
)
_COLUMNS = "username, display_name, role, active, created_at, updated_at"


class UserError(ValueError):
    """An account change that cannot be made; the message says why and what to do."""


class WeakPassword(UserError):
    """A password too easy to guess."""


@dataclass(frozen=True)
class User:
    """One account as the dashboard sees it: never its password hash."""

    username: str
    display_name: str
    role: str
    active: bool
    created_at: str
    updated_at: str

    def can(self, permission: str) -> bool:
        return self.active and can(self.role, permission)

    @property
    def role_zh(self) -> str:
        return ROLES[self.role][0]


def known_permission(permission: str) -> str:
    """``permission`` itself; ``ValueError`` if it is not one of :data:`PERMISSIONS` (a
    typo in a page would otherwise deny, or grant, silently)."""
    if permission not in PERMISSIONS:
        msg = f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}"
        raise ValueError(msg)
    return permission


def can(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission``; an unknown role has none."""
    return known_permission(permission) in GRANTS.get(role, frozenset())


def may_decide(role: str, step: str) -> bool:
    """Whether ``role`` may record a decision at review ``step`` (code or Chinese)."""
    return can(role, STEP_PERMISSION[normalise(step, STEPS, "step")])


def check_password(password: str, username: str = "") -> None:
    """Refuse a weak password with :class:`WeakPassword` saying how to make it stronger:
    at least :data:`MIN_PASSWORD_LENGTH` characters, two kinds of characters (letters,
    digits, others), not the user name, not a well-known password."""
    kinds = sum(
        bool(re.search(p, password)) for p in (r"[^\W\d_]", r"\d", r"[\W_]")
    )  # letters (any script), digits, the rest
    lowered = password.lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        why = f"密码至少 {MIN_PASSWORD_LENGTH} 位 (at least {MIN_PASSWORD_LENGTH} characters)"
    elif len(set(password)) < 4:
        why = "密码字符过于重复 (too few different characters)"
    elif kinds < 2:
        why = "密码须含字母、数字、符号中的至少两类 (mix letters, digits or symbols)"
    elif username and username.lower() in lowered:
        why = "密码不得包含用户名 (must not contain the user name)"
    elif lowered in _COMMON:
        why = "密码过于常见 (a well-known password)"
    else:
        return
    msg = f"weak password: {why}"
    raise WeakPassword(msg)


def hash_password(password: str) -> str:
    """A salted scrypt hash in werkzeug's ``method$salt$hash`` form."""
    return generate_password_hash(password, method=HASH_METHOD)


def _username(username: str) -> str:
    name = (username or "").strip()
    if not _USERNAME.match(name):
        msg = (
            f"user name {username!r}: 2–32 letters, digits, '_', '.' or '-' "
            "(Chinese characters are letters)"
        )
        raise UserError(msg)
    return name


def _role(role: str) -> str:
    r = (role or "").strip()
    for code, (zh, en) in ROLES.items():
        if r in (code, zh, en):
            return code
    valid = ", ".join(f"{code} ({zh})" for code, (zh, _) in ROLES.items())
    msg = f"role {role!r} is not one of: {valid}"
    raise UserError(msg)


def _actor(by: str) -> str:
    if not (by or "").strip():
        msg = "say who makes the change (by): the audit log names them"
        raise UserError(msg)
    return by.strip()


def get_user(store: CaseStore, username: str) -> User | None:
    """The account named ``username`` (any case), or ``None``."""
    rows = store.query(f"SELECT {_COLUMNS} FROM users WHERE username = ?", (username.strip(),))
    return _user(rows[0]) if rows else None


def password_hash(store: CaseStore, username: str) -> str | None:
    """The stored hash, for the login check only (:mod:`hrss_fraud.dashboard.auth`)."""
    rows = store.query("SELECT password_hash FROM users WHERE username = ?", (username.strip(),))
    return rows[0][0] if rows else None


def list_users(store: CaseStore, *, include_disabled: bool = True) -> list[User]:
    """Every account, by role (least trusted first) then name."""
    where = "" if include_disabled else "WHERE u.active = 1"
    cols = ", ".join(f"u.{c.strip()}" for c in _COLUMNS.split(","))
    rows = store.query(
        f"SELECT {cols} FROM users u JOIN user_role r USING (role) {where} "
        "ORDER BY r.seq, u.username"
    )
    return [_user(r) for r in rows]


def _user(row: tuple) -> User:
    username, display_name, role, active, created_at, updated_at = row
    return User(username, display_name, role, bool(active), created_at, updated_at)


def add_user(
    store: CaseStore,
    username: str,
    *,
    role: str,
    password: str,
    by: str,
    display_name: str | None = None,
    now: datetime | None = None,
) -> User:
    """Create an active account; :class:`UserError` if the name is taken or invalid, the
    role unknown or the password weak."""
    name, code, actor = _username(username), _role(role), _actor(by)
    check_password(password, name)
    shown = (display_name or "").strip() or name
    at = timestamp(now)
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
            msg = f"user {name!r} already exists; use 'users passwd' or pick another name"
            raise UserError(msg)
        con.execute(
            "INSERT INTO users (username, display_name, role, password_hash, active, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
            (name, shown, code, hash_password(password), at, at),
        )
        detail = {"role": code, "display_name": shown}
        write_audit(con, at, actor, "user.add", "user", name, detail)
    return User(name, shown, code, True, at, at)


def set_active(
    store: CaseStore, username: str, active: bool, *, by: str, now: datetime | None = None
) -> User:
    """Disable (or enable again) an account; a disabled one cannot log in and its open
    sessions end at their next request."""
    action = "user.enable" if active else "user.disable"
    name = _update(
        store, username, "active", int(active), action, by, now, None if active else "disable"
    )
    return get_user(store, name)  # type: ignore[return-value]


def set_role(
    store: CaseStore, username: str, role: str, *, by: str, now: datetime | None = None
) -> User:
    """Give an account another role; its open sessions end, so the new role's rights (and
    the loss of the old one's) apply from its next login."""
    name = _update(store, username, "role", _role(role), "user.role", by, now, "role")
    return get_user(store, name)  # type: ignore[return-value]


def set_password(
    store: CaseStore, username: str, password: str, *, by: str, now: datetime | None = None
) -> None:
    """Replace an account's password (refusing a weak one); this also lifts a login
    lockout, since whoever set it knows the new one."""
    check_password(password, username.strip())
    _update(
        store,
        username,
        "password_hash",
        hash_password(password),
        "user.password",
        by,
        now,
        "password",
    )


def _update(
    store: CaseStore,
    username: str,
    column: str,
    value: object,
    action: str,
    by: str,
    now: datetime | None,
    revoke: str | None,
) -> str:
    """Set one column of an existing account and audit it; with ``revoke`` (the reason)
    its open sessions end in the same transaction. Return the stored name (names match
    in any case)."""
    actor, at = _actor(by), timestamp(now)
    with store.transaction() as con:
        row = con.execute(
            "SELECT username FROM users WHERE username = ?", (username.strip(),)
        ).fetchone()
        if not row:
            msg = f"no user {username!r}; 'users list' shows the accounts"
            raise UserError(msg)
        con.execute(
            f"UPDATE users SET {column} = ?, updated_at = ? WHERE username = ?",
            (value, at, row[0]),
        )
        ended = revoke_user(con, row[0], revoke, at) if revoke else 0
        detail = {"column": column, "value": value} if column == "role" else {}
        if ended:
            detail["sessions_ended"] = ended
        write_audit(con, at, actor, action, "user", row[0], detail or None)
    return row[0]
