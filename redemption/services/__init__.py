"""Writes of the redemption domain, one module per capability:

- `redeem`: check and redeem at the counter, one voucher or a whole order, exactly once;
- `lookup`: finding a voucher without its code;
- `reverse`: undoing a redemption;
- `issue`: issuing codes for platform orders, one order or a whole order export;
- `vouchers`: voiding, freezing and reissuing one voucher, and the buyer page's views;
- `cards`: importing third-party card codes, and their passwords;
- `offline`: what a phone decides alone while offline, and its upload (named as a module:
  `services.offline.upload`).

Callers name the service through this package (`services.voucher_redeem`); the modules are how
the code is kept, not part of the interface.
"""

from redemption.services.cards import passwords_reencrypt, voucher_import, voucher_reveal
from redemption.services.issue import (
    MAX_QUANTITY, ImportRefused, batch_vouchers, validity_for, voucher_issue, vouchers_issue_file,
)
from redemption.services.lookup import MAX_LOOKUP, voucher_lookup
from redemption.services.redeem import (
    MAX_ORDER_VOUCHERS, OrderOutcome, Outcome, order_redeem, resolve_store, voucher_check, voucher_redeem,
)
from redemption.services.reverse import redemption_reverse
from redemption.services.vouchers import voucher_freeze, voucher_reissue, voucher_viewed, voucher_void

__all__ = [
    "MAX_LOOKUP", "MAX_ORDER_VOUCHERS", "MAX_QUANTITY", "ImportRefused", "OrderOutcome", "Outcome",
    "batch_vouchers", "order_redeem", "passwords_reencrypt", "redemption_reverse", "resolve_store", "validity_for",
    "voucher_check", "voucher_freeze", "voucher_import", "voucher_issue", "voucher_lookup", "voucher_redeem",
    "voucher_reissue", "voucher_reveal", "voucher_viewed", "voucher_void", "vouchers_issue_file",
]
