"""The pages people open: the clerk's scanner (/staff/), the owner's dashboard (/dashboard/) and
the buyer's voucher page (/v/<token>/). They sit on top of the domain and import from it; the
domain never imports them."""
