"""The schedulers stage: when a candidate stops or is continued
(successive halving, its rung table, ASHA's promotions)."""
