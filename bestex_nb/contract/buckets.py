"""The values of the review's grouping columns, in reading order (metrics.md sections 2, 5 and 6): order
categories, notional size buckets, share buckets and distance buckets, and their labels for people."""

#: Notional size buckets at the receipt midpoint (USD), ``fct_orders.size_bucket``.
SIZE_BUCKETS = ["<250", "250-1k", "1k-5k", "5k-10k", "10k-20k", "20k-50k", "50k-200k", ">=200k"]
#: Order size in shares, ``fct_orders.share_bucket``.
SHARE_BUCKETS = ["<100", "100-499", "500-1999", "2000-4999", "5000-9999", ">=10000"]
#: Ticks behind the same-side best quote at receipt, ``fct_orders.distance_bucket``.
DISTANCE_BUCKETS = ["inside", "0", "1-2", "3-5", "6-10", ">10"]

#: The categories of the price-improvement review (metrics.md section 5).
PI_CATEGORIES = ["market", "marketable_limit"]
PI_CATEGORY_LABELS = {"market": "Market orders", "marketable_limit": "Marketable limit orders"}
#: The categories of the limit-order fill review (metrics.md section 6).
LIMIT_CATEGORIES = ["inside_quote_limit", "at_quote_limit", "near_quote_limit", "away_limit"]
LIMIT_CATEGORY_LABELS = {"inside_quote_limit": "Inside the quote", "at_quote_limit": "At the quote",
                         "near_quote_limit": "Near the quote", "away_limit": "Away from the quote"}
