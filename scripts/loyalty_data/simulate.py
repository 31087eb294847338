"""Simulation of one chunk of customers: their purchases, returns, lines, events and offer sends.

Customers are independent of each other, so the base is simulated in chunks of a fixed size with
one random stream per chunk (seeded from the run seed and the chunk number). That keeps memory
bounded and the output identical for the same parameters, however the run is scheduled.

Model in short:
- each customer signs up (some before the history starts), most place a first order soon after;
- buyers then order on their own rhythm: gamma-distributed gaps around a customer-specific mean
  interval (lognormal across customers) in shopping time (see timeline.py for seasonality);
- some buy once only, some stop (churn) after a while, and some churners come back after a long
  gap (reactivation);
- basket size, favourite category, preferred channel, currency and discount hunting are traits of
  the customer; returns follow some purchases; guests order without a customer id;
- offer sends go out in waves; a held-out 10 % receive nothing, the others place an extra order
  with probability `uplift` within 14 days (the known effect to measure).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import config as C
from .timeline import PRE_HISTORY_DAYS, Timeline

DAY_S = 86_400
GAP_SHAPE = 3.0  # gamma shape of a customer's gaps: coefficient of variation 1/sqrt(3)
QUANTITIES = np.array([1, 2, 3, 4, 5, 6])
QUANTITY_P = np.array([0.74, 0.16, 0.06, 0.02, 0.01, 0.01])
DISCOUNT_BP = np.array([1000, 1500, 2000, 2500, 3000])  # discount rates in basis points


# --------------------------------------------------------------------------------- catalogue


ADJECTIVES = (
    "Classic",
    "Everyday",
    "Premium",
    "Essential",
    "Urban",
    "Coastal",
    "Nordic",
    "Heritage",
    "Studio",
    "Modern",
    "Vintage",
    "Signature",
)
NOUNS: dict[str, tuple[str, ...]] = {
    "Apparel": ("T-Shirt", "Hoodie", "Shirt", "Jumper", "Dress", "Chinos", "Jacket"),
    "Footwear": ("Trainer", "Boot", "Loafer", "Sandal", "Runner"),
    "Accessories": ("Scarf", "Belt", "Wallet", "Cap", "Tote", "Watch Strap"),
    "Beauty": ("Face Cream", "Serum", "Lip Balm", "Shampoo", "Body Lotion", "Cleanser"),
    "Home": ("Throw", "Cushion", "Lamp", "Vase", "Candle", "Rug"),
    "Kitchen": ("Mug Set", "Knife", "Pan", "Chopping Board", "Teapot", "Storage Jar"),
    "Electronics": ("Headphones", "Speaker", "Charger", "Smart Plug", "Keyboard"),
    "Toys": ("Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite"),
    "Sports": ("Yoga Mat", "Water Bottle", "Dumbbell Set", "Running Vest", "Racket"),
    "Books": ("Cookbook", "Novel", "Travel Guide", "Notebook", "Atlas", "Journal"),
}


@dataclass(frozen=True)
class Catalogue:
    """Products, grouped by category (products of one category are contiguous)."""

    product_number: np.ndarray
    category: np.ndarray
    price: np.ndarray  # list price in cents
    unit_cost: np.ndarray  # in cents
    names: list[str]
    category_names: tuple[str, ...]
    category_p: np.ndarray
    cum_popularity: np.ndarray
    cat_lo: np.ndarray
    cat_hi: np.ndarray
    cat_first: np.ndarray
    cat_last: np.ndarray

    @classmethod
    def build(cls, rng: np.random.Generator) -> Catalogue:
        cats, prices, costs, names, popularity = [], [], [], [], []
        for c, (cat_name, base_price, count) in enumerate(C.CATEGORIES):
            raw = base_price * rng.lognormal(0.0, 0.45, size=count)
            price = np.maximum(np.round(raw) * 100 - 1, 199).astype(
                np.int64
            )  # xx.99 price points
            share = rng.uniform(*C.UNIT_COST_SHARE, size=count)
            cost = np.round(price * share).astype(np.int64)
            combos = [f"{a} {n}" for a in ADJECTIVES for n in NOUNS[cat_name]]
            picks = rng.choice(len(combos), size=count, replace=count > len(combos))
            cats.append(np.full(count, c))
            prices.append(price)
            costs.append(cost)
            names.extend(combos[i] for i in picks)
            pop = (
                1.0 / (rng.permutation(count) + 2.0) ** 0.9
            )  # a few best sellers per category
            popularity.append(pop / pop.sum())
        category = np.concatenate(cats)
        sizes = np.array([count for _, _, count in C.CATEGORIES])
        cat_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        cat_last = cat_first + sizes - 1
        cum = np.cumsum(np.concatenate(popularity))
        cat_hi = cum[cat_last]
        cat_lo = np.concatenate([[0.0], cat_hi[:-1]])
        category_p = rng.dirichlet(np.full(len(sizes), 6.0))
        return cls(
            product_number=np.arange(1, len(category) + 1),
            category=category,
            price=np.concatenate(prices),
            unit_cost=np.concatenate(costs),
            names=names,
            category_names=tuple(name for name, _, _ in C.CATEGORIES),
            category_p=category_p,
            cum_popularity=cum,
            cat_lo=cat_lo,
            cat_hi=cat_hi,
            cat_first=cat_first,
            cat_last=cat_last,
        )

    def sample(self, rng: np.random.Generator, categories: np.ndarray) -> np.ndarray:
        """One product index per requested category, by popularity within the category."""
        lo, hi = self.cat_lo[categories], self.cat_hi[categories]
        picks = np.searchsorted(
            self.cum_popularity, lo + rng.random(len(categories)) * (hi - lo)
        )
        return np.clip(picks, self.cat_first[categories], self.cat_last[categories])

    def random_categories(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.category_p), size=n, p=self.category_p)


# --------------------------------------------------------------------------------- customers


@dataclass
class Customers:
    number: np.ndarray
    signup_s: np.ndarray
    buyer: np.ndarray
    first_s: np.ndarray
    one_timer: np.ndarray
    churn1_day: np.ndarray  # end of the first active stretch (inf: never)
    react_day: np.ndarray  # start of a second stretch (nan: none)
    churn2_day: np.ndarray
    interval: np.ndarray  # mean gap between orders in shopping days, before calibration
    basket: np.ndarray
    fav_cat: np.ndarray
    currency: np.ndarray
    channel: np.ndarray
    hunter: np.ndarray
    consent: np.ndarray  # (n, 3) codes into config.BOOLS for email, sms, push

    def __len__(self) -> int:
        return len(self.number)


def draw_customers(
    rng: np.random.Generator, n: int, first_number: int, tl: Timeline, cat: Catalogue
) -> Customers:
    sh = C.SHARES
    pre = rng.random(n) < 0.30
    signup_day = np.where(
        pre,
        tl.origin_day + rng.integers(0, PRE_HISTORY_DAYS, size=n),
        tl.random_days(rng, n, tl.start_day, tl.end_day, trend=0.6),
    )
    signup_s = tl.seconds_on_day(rng, signup_day)
    buyer = rng.random(n) >= sh["never_ordered_customers"]
    same_session = rng.random(n) < 0.45
    delay = np.where(
        same_session,
        rng.integers(60, 7200, size=n),
        (rng.exponential(10.0, size=n) * DAY_S).astype(np.int64) + 60,
    )
    first_s = np.where(buyer, signup_s + delay, -1)
    first_day = np.where(buyer, first_s / DAY_S, np.nan)
    one_timer = rng.random(n) < sh["one_time_buyers"]
    churns = rng.random(n) < sh["churn_after_first_stretch"]
    churn1 = np.where(
        one_timer,
        first_day,
        np.where(churns, first_day + 30.0 + rng.exponential(330.0, size=n), np.inf),
    )
    reactivates = (one_timer | churns) & (
        rng.random(n) < sh["reactivation_of_churners"]
    )
    react = np.where(
        reactivates & buyer, churn1 + rng.uniform(150.0, 450.0, size=n), np.nan
    )
    churn2 = np.where(
        rng.random(n) < 0.5, react + 20.0 + rng.exponential(250.0, size=n), np.inf
    )
    interval = np.exp(rng.normal(np.log(40.0), 0.8, size=n))
    basket = np.exp(rng.normal(np.log(0.9), 0.6, size=n))
    fav_cat = cat.random_categories(rng, n)
    u = rng.random(n)
    currency = np.where(
        u < sh["customers_eur"],
        C.CUR_EUR,
        np.where(u < sh["customers_eur"] + sh["customers_usd"], C.CUR_USD, C.CUR_GBP),
    ).astype(np.int8)
    channel = rng.choice(3, size=n, p=[0.5, 0.3, 0.2]).astype(np.int8)
    hunter = rng.random(n) < sh["discount_hunters"]
    consent = np.stack(
        [rng.choice(3, size=n, p=C.CONSENT_SHARES[ch]) for ch in C.SEND_CHANNELS],
        axis=1,
    ).astype(np.int8)
    return Customers(
        number=np.arange(first_number, first_number + n, dtype=np.int64),
        signup_s=signup_s,
        buyer=buyer,
        first_s=first_s,
        one_timer=one_timer & buyer,
        churn1_day=churn1,
        react_day=react,
        churn2_day=churn2,
        interval=interval,
        basket=basket,
        fav_cat=fav_cat,
        currency=currency,
        channel=channel,
        hunter=hunter,
        consent=consent,
    )


def organic_purchases(
    rng: np.random.Generator, cus: Customers, tl: Timeline, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, epoch seconds) of every organic purchase inside the history window."""
    n = len(cus)
    w0, w1 = tl.window_shopping()
    first_day = np.where(cus.buyer, cus.first_s / DAY_S, np.nan)
    owner = np.concatenate([np.arange(n), np.arange(n)])
    s_day = np.concatenate([first_day, cus.react_day])
    e_day = np.concatenate([cus.churn1_day, cus.churn2_day])
    single = np.concatenate([cus.one_timer, np.zeros(n, dtype=bool)])
    stretch1 = np.concatenate([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])
    ok = ~np.isnan(s_day)
    owner, s_day, e_day, single, stretch1 = (
        owner[ok],
        s_day[ok],
        e_day[ok],
        single[ok],
        stretch1[ok],
    )

    mean_gap = cus.interval[owner] * scale
    u_s = tl.to_shopping(s_day)
    u_e = np.where(
        single, w1, np.minimum(tl.to_shopping(np.minimum(e_day, tl.end_day + 1.0)), w1)
    )
    pre = u_s < w0
    phase = rng.random(len(owner))
    first = np.where(pre, w0 + phase * mean_gap, u_s)
    first = np.where(single & pre, np.inf, first)
    has = first < u_e
    n_exp = np.where(has & ~single, (u_e - first) / mean_gap, 0.0)
    k = np.where(
        has, np.where(single, 1, 1 + np.ceil(n_exp + 4.0 * np.sqrt(n_exp) + 3.0)), 0
    )
    k = k.astype(np.int64)
    grp = np.repeat(np.arange(len(owner)), k)
    gaps = rng.gamma(GAP_SHAPE, 1.0, size=len(grp)) * (mean_gap[grp] / GAP_SHAPE)
    starts = (np.cumsum(k) - k)[k > 0]
    gaps[starts] = 0.0
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[starts], k[k > 0])
    u = first[grp] + cum
    keep = u < u_e[grp]
    is_first = np.zeros(len(grp), dtype=bool)
    is_first[starts] = True
    exact = is_first & stretch1[grp] & ~pre[grp]
    grp, u, exact = grp[keep], u[keep], exact[keep]
    who = owner[grp]
    days = np.clip(tl.to_calendar(u), tl.start_day, tl.end_day + 0.999999)
    t = tl.seconds_on_day(rng, days)
    # the first order is placed at its exact moment; later ones never precede it
    t = np.where(
        exact,
        cus.first_s[who],
        np.maximum(t, np.where(stretch1[grp], cus.first_s[who] + 60, 0)),
    )
    t = np.minimum(t, tl.end_seconds - 1)
    return who, t


def calibrate_scale(
    seed: int, tl: Timeline, cat: Catalogue, purchases_per_customer: float
) -> float:
    """Factor on the customers' mean gaps that gives the wanted purchases per customer.

    The count per customer is close to a + b / scale (a: first orders, b: active time over the
    mean gap); two pilot simulations fix a and b, a third refines the solution.
    """
    pilot_n = 20_000

    def count(scale: float) -> float:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
        cus = draw_customers(rng, pilot_n, 1, tl, cat)
        who, _ = organic_purchases(rng, cus, tl, scale)
        return len(who) / pilot_n

    xs = [1.0, 0.5]  # x = 1 / scale
    cs = [count(1.0), count(2.0)]
    for _ in range(2):
        slope = (cs[-1] - cs[-2]) / (xs[-1] - xs[-2])
        x = xs[-1] + (purchases_per_customer - cs[-1]) / slope
        x = float(np.clip(x, 1e-3, 50.0))
        xs.append(x)
        cs.append(count(1.0 / x))
    return 1.0 / xs[-1]


# --------------------------------------------------------------------------------- chunk


@dataclass
class Lines:
    row: np.ndarray  # index of the order row the line belongs to
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    amount: np.ndarray


@dataclass
class ChunkResult:
    """Clean orders plus everything needed to write the chunk; all arrays are numpy."""

    customers: Customers
    orders: dict[str, np.ndarray]
    lines: Lines
    events: dict[str, np.ndarray]
    sends: dict[str, np.ndarray]
    stats: dict[str, int] = field(default_factory=dict)


def _basket_lines(
    rng: np.random.Generator,
    cat: Catalogue,
    basket: np.ndarray,
    fav_cat: np.ndarray,
    discount_bp: np.ndarray,
) -> tuple[Lines, np.ndarray, np.ndarray, np.ndarray]:
    """Lines of len(basket) orders; returns lines, order amount, order discount, line count."""
    n = len(basket)
    n_lines = 1 + np.minimum(rng.poisson(basket), 11)
    row = np.repeat(np.arange(n), n_lines)
    use_fav = (rng.random(len(row)) < 0.55) & (fav_cat[row] >= 0)
    cats = np.where(use_fav, fav_cat[row], cat.random_categories(rng, len(row)))
    product = cat.sample(rng, cats)
    quantity = QUANTITIES[rng.choice(len(QUANTITIES), size=len(row), p=QUANTITY_P)]
    # the same product picked twice for one order is one line with the summed quantity
    by_key = np.lexsort((product, row))
    row, product, quantity = row[by_key], product[by_key], quantity[by_key]
    first = np.ones(len(row), dtype=bool)
    first[1:] = (row[1:] != row[:-1]) | (product[1:] != product[:-1])
    groups = np.flatnonzero(first)
    if len(row):
        quantity = np.add.reduceat(quantity, groups)
    row, product = row[groups], product[groups]
    n_lines = np.bincount(row, minlength=n)
    unit_price = cat.price[product]
    gross = quantity * unit_price
    discount = (gross * discount_bp[row] + 5000) // 10_000
    amount = gross - discount
    starts = np.cumsum(n_lines) - n_lines
    order_amount = np.add.reduceat(amount, starts) if n else np.zeros(0, np.int64)
    order_discount = np.add.reduceat(discount, starts) if n else np.zeros(0, np.int64)
    return (
        Lines(row, product, quantity, unit_price, amount),
        order_amount,
        order_discount,
        n_lines,
    )


def _statuses(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    regular = np.asarray(C.PURCHASE_STATUS_CODES)[
        rng.choice(
            len(C.PURCHASE_STATUS_CODES),
            size=n,
            p=np.asarray(C.PURCHASE_STATUS_WEIGHTS),
        )
    ]
    status = np.where(u < C.SHARES["cancelled"], C.ST_CANCELLED, regular)
    status = np.where(
        (u >= C.SHARES["cancelled"])
        & (u < C.SHARES["cancelled"] + C.SHARES["status_returned"]),
        C.ST_RETURNED,
        status,
    )
    return status.astype(np.int8)


def _discounts(rng: np.random.Generator, hunter: np.ndarray) -> np.ndarray:
    n = len(hunter)
    p = np.where(
        hunter,
        C.SHARES["discount_hunter_order_share"],
        C.SHARES["discount_other_order_share"],
    )
    rate = np.where(
        rng.random(n) < p, DISCOUNT_BP[rng.integers(0, len(DISCOUNT_BP), size=n)], 0
    )
    gift = rng.random(n) < C.SHARES["zero_amount"]
    return np.where(gift, 10_000, rate).astype(np.int64)


def offer_waves(seed: int, tl: Timeline) -> list[tuple[int, np.ndarray]]:
    """(day, three offer indexes) of every send wave, oldest first."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    first = max(tl.start_day, tl.end_day - C.SEND_HISTORY_DAYS)
    days = list(range(tl.end_day - 3, first - 1, -C.SEND_WAVE_EVERY_DAYS))[::-1]
    return [(d, rng.choice(len(C.OFFER_IDS), size=3, replace=False)) for d in days]


def _sends(
    rng: np.random.Generator, cus: Customers, waves: list[tuple[int, np.ndarray]]
) -> dict[str, np.ndarray]:
    n = len(cus)
    consented = cus.consent == 1
    reachable = consented.any(axis=1)
    weights = consented * np.array([0.6, 0.2, 0.2])
    cum_w = np.cumsum(weights, axis=1)
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("owner", "sent_s", "offer", "channel", "holdout")
    }
    for day, offers in waves:
        sent_s = day * DAY_S + 9 * 3600 + rng.integers(0, 7200, size=n)
        picked = (
            reachable
            & (cus.signup_s < sent_s)
            & (rng.random(n) < C.SHARES["send_wave_reach"])
        )
        u = rng.random(n) * cum_w[:, 2]
        channel = (u[:, None] >= cum_w).sum(axis=1)
        offer = offers[rng.integers(0, len(offers), size=n)]
        holdout = rng.random(n) < C.SHARES["send_holdout"]
        idx = np.flatnonzero(picked)
        parts["owner"].append(idx)
        parts["sent_s"].append(sent_s[idx])
        parts["offer"].append(offer[idx])
        parts["channel"].append(channel[idx])
        parts["holdout"].append(holdout[idx])
    out = {
        k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in parts.items()
    }
    order = np.argsort(out["sent_s"], kind="stable")
    return {k: v[order] for k, v in out.items()}


def simulate_chunk(
    rng: np.random.Generator,
    n: int,
    first_number: int,
    tl: Timeline,
    cat: Catalogue,
    scale: float,
    uplift: float,
    waves: list[tuple[int, np.ndarray]],
    event_rng: np.random.Generator | None,
) -> ChunkResult:
    """Simulate n customers numbered from first_number; orders come back sorted by time.

    Events draw from their own stream (`event_rng`, None: no events), so that leaving them out
    does not change anything else.
    """
    sh = C.SHARES
    end_s = tl.end_seconds
    cus = draw_customers(rng, n, first_number, tl, cat)
    who, t = organic_purchases(rng, cus, tl, scale)

    # offer sends and the extra orders they cause among treated customers
    sends = _sends(rng, cus, waves)
    treated = ~sends["holdout"].astype(bool)
    extra_t = sends["sent_s"] + rng.integers(
        DAY_S // 2, C.UPLIFT_WINDOW_DAYS * DAY_S + 1, size=len(treated)
    )
    extra = treated & (rng.random(len(treated)) < uplift) & (extra_t < end_s)
    n_organic = len(who)
    who = np.concatenate([who, sends["owner"][extra]])
    t = np.concatenate([t, extra_t[extra]])

    # customer purchases
    n_p = len(who)
    p_channel = np.where(
        rng.random(n_p) < 0.8, cus.channel[who], rng.integers(0, 3, size=n_p)
    ).astype(np.int8)
    p_currency = cus.currency[who].copy()
    p_status = _statuses(rng, n_p)
    p_rate = _discounts(rng, cus.hunter[who])
    p_lines, p_amount, p_discount, p_nlines = _basket_lines(
        rng, cat, cus.basket[who], cus.fav_cat[who], p_rate
    )

    # returns: mostly partial, of purchases with several units
    p_units = (
        np.add.reduceat(p_lines.quantity, np.cumsum(p_nlines) - p_nlines)
        if n_p
        else p_nlines
    )
    multi = p_units >= 2
    eligible = np.isin(p_status, C.PURCHASE_STATUS_CODES) & (p_rate < 10_000)
    p_ret = np.where(multi, sh["return_multi_unit"], sh["return_single_unit"])
    r_delay = ((2.0 + rng.lognormal(np.log(6.0), 0.5, size=n_p)) * DAY_S).astype(
        np.int64
    )
    full = ~multi | (rng.random(n_p) < sh["full_return_of_multi_unit"])
    returned = eligible & (rng.random(n_p) < p_ret) & (t + r_delay < end_s)
    r_src = np.flatnonzero(returned)
    r_full = full[r_src]
    line_start = np.cumsum(p_nlines) - p_nlines
    # full returns: every line negated
    f_src = r_src[r_full]
    f_lines = np.repeat(line_start[f_src], p_nlines[f_src]) + (
        np.arange(p_nlines[f_src].sum())
        - np.repeat(np.cumsum(p_nlines[f_src]) - p_nlines[f_src], p_nlines[f_src])
    )
    f_row = np.repeat(np.arange(len(r_src))[r_full], p_nlines[f_src])
    # partial returns: part of one line
    q_src = r_src[~r_full]
    pick = line_start[q_src] + (rng.random(len(q_src)) * p_nlines[q_src]).astype(
        np.int64
    )
    q_qty = p_lines.quantity[pick]
    upper = np.where(
        p_nlines[q_src] == 1, q_qty - 1, q_qty
    )  # keep something when it is the only line
    r_units = 1 + (rng.random(len(q_src)) * upper).astype(np.int64)
    r_amount_line = (2 * p_lines.amount[pick] * r_units + q_qty) // (2 * q_qty)
    ret_lines = Lines(
        row=np.concatenate([f_row, np.flatnonzero(~r_full)]),
        product=np.concatenate([p_lines.product[f_lines], p_lines.product[pick]]),
        quantity=-np.concatenate([p_lines.quantity[f_lines], r_units]),
        unit_price=np.concatenate(
            [p_lines.unit_price[f_lines], p_lines.unit_price[pick]]
        ),
        amount=-np.concatenate([p_lines.amount[f_lines], r_amount_line]),
    )
    order = np.argsort(ret_lines.row, kind="stable")
    ret_lines = Lines(
        *(
            getattr(ret_lines, f)[order]
            for f in ("row", "product", "quantity", "unit_price", "amount")
        )
    )
    n_r = len(r_src)
    r_amount = np.zeros(n_r, dtype=np.int64)
    np.add.at(r_amount, ret_lines.row, ret_lines.amount)
    r_channel = np.where(rng.random(n_r) < 0.25, 2, p_channel[r_src]).astype(np.int8)

    # guest orders
    n_g = int(rng.binomial(n_p + n_r, sh["guest_orders"] / (1.0 - sh["guest_orders"])))
    g_t = tl.seconds_on_day(
        rng, tl.random_days(rng, n_g, tl.start_day, tl.end_day, trend=0.3)
    )
    g_channel = rng.choice(3, size=n_g, p=[0.7, 0.1, 0.2]).astype(np.int8)
    g_status = _statuses(rng, n_g)
    g_rate = _discounts(rng, np.zeros(n_g, dtype=bool))
    g_lines, g_amount, g_discount, _ = _basket_lines(
        rng, cat, np.full(n_g, 0.8), np.full(n_g, -1), g_rate
    )

    # every clean order row: purchases, returns, guest orders
    gbp_empty = sh["empty_currency_of_gbp_rows"]
    cur_p = np.where(
        (p_currency == C.CUR_GBP) & (rng.random(n_p) < gbp_empty),
        C.CUR_EMPTY,
        p_currency,
    )
    cur_g = np.where(rng.random(n_g) < gbp_empty, C.CUR_EMPTY, C.CUR_GBP)
    kind = np.concatenate(
        [np.where(np.arange(n_p) < n_organic, 0, 1), np.full(n_r, 2), np.full(n_g, 3)]
    )
    orders = {
        "customer": np.concatenate([who, who[r_src], np.full(n_g, -1)]),
        "t": np.concatenate([t, t[r_src] + r_delay[r_src], g_t]),
        "amount": np.concatenate([p_amount, r_amount, g_amount]),
        "discount": np.concatenate([p_discount, np.zeros(n_r, np.int64), g_discount]),
        "currency": np.concatenate([cur_p, cur_p[r_src], cur_g]).astype(np.int8),
        "status": np.concatenate([p_status, np.zeros(n_r, np.int8), g_status]).astype(
            np.int8
        ),
        "channel": np.concatenate([p_channel, r_channel, g_channel]).astype(np.int8),
        "kind": kind.astype(np.int8),
        "has_return": np.concatenate([returned, np.zeros(n_r + n_g, dtype=bool)]),
        "full_return": np.concatenate(
            [np.zeros(n_p, bool), r_full, np.zeros(n_g, bool)]
        ),
    }
    lines = Lines(
        row=np.concatenate([p_lines.row, ret_lines.row + n_p, g_lines.row + n_p + n_r]),
        product=np.concatenate([p_lines.product, ret_lines.product, g_lines.product]),
        quantity=np.concatenate(
            [p_lines.quantity, ret_lines.quantity, g_lines.quantity]
        ),
        unit_price=np.concatenate(
            [p_lines.unit_price, ret_lines.unit_price, g_lines.unit_price]
        ),
        amount=np.concatenate([p_lines.amount, ret_lines.amount, g_lines.amount]),
    )
    sort = np.argsort(orders["t"], kind="stable")
    position = np.empty_like(sort)
    position[sort] = np.arange(len(sort))
    orders = {k: v[sort] for k, v in orders.items()}
    line_order = np.argsort(position[lines.row], kind="stable")
    lines = Lines(
        position[lines.row][line_order],
        lines.product[line_order],
        lines.quantity[line_order],
        lines.unit_price[line_order],
        lines.amount[line_order],
    )

    events = (
        _events(event_rng, cus, tl, cat, who, t, p_channel, p_lines, p_nlines)
        if event_rng is not None
        else {
            "customer": np.zeros(0, np.int64),
            "t": np.zeros(0, np.int64),
            "type": np.zeros(0, np.int8),
            "product": np.zeros(0, np.int64),
        }
    )
    stats = {
        "customers": n,
        "customers_never_ordering_by_design": int((~cus.buyer).sum()),
        "one_time_buyers_by_design": int(cus.one_timer.sum()),
        "churners_by_design": int(
            (np.isfinite(cus.churn1_day) & cus.buyer & ~cus.one_timer).sum()
        ),
        "reactivations_by_design": int((~np.isnan(cus.react_day)).sum()),
        "discount_hunters": int((cus.hunter).sum()),
        "customers_with_orders": len(np.unique(who)),
        "purchases": n_p,
        "incremental_orders_from_offers": n_p - n_organic,
        "returns": n_r,
        "returns_partial": int((~r_full).sum()),
        "returns_full": int(r_full.sum()),
        "guest_orders": n_g,
        "cancelled_orders": int(
            (p_status == C.ST_CANCELLED).sum() + (g_status == C.ST_CANCELLED).sum()
        ),
        "status_returned_orders": int(
            (p_status == C.ST_RETURNED).sum() + (g_status == C.ST_RETURNED).sum()
        ),
        "zero_amount_orders": int((p_rate == 10_000).sum() + (g_rate == 10_000).sum()),
        "discounted_orders": int((p_rate > 0).sum() + (g_rate > 0).sum()),
    }
    return ChunkResult(cus, orders, lines, events, sends, stats)


def _events(
    rng: np.random.Generator,
    cus: Customers,
    tl: Timeline,
    cat: Catalogue,
    who: np.ndarray,
    t: np.ndarray,
    channel: np.ndarray,
    lines: Lines,
    n_lines: np.ndarray,
) -> dict[str, np.ndarray]:
    """Product views, carts and visits: the sessions behind online orders, research views in the
    days before orders, abandoned carts and browse-only visits."""
    n_p = len(who)
    first_line = np.cumsum(n_lines) - n_lines
    prod1 = lines.product[first_line]
    prod2 = np.where(
        n_lines >= 2,
        lines.product[np.minimum(first_line + 1, len(lines.product) - 1)],
        -1,
    )
    online = channel != 2
    dv = rng.integers(300, 5400, size=n_p)
    visit_t = t - dv
    view1_t = t - (dv * rng.uniform(0.3, 0.9, size=n_p)).astype(np.int64)
    view2_t = t - (dv * rng.uniform(0.3, 0.9, size=n_p)).astype(np.int64)
    cart_t = t - (dv * rng.uniform(0.02, 0.25, size=n_p)).astype(np.int64)
    research = rng.random(n_p) < np.where(online, 0.35, 0.2)
    research_t = (
        t - rng.integers(1, 8, size=n_p) * DAY_S - rng.integers(0, DAY_S, size=n_p)
    )
    has2 = online & (prod2 >= 0)

    # sessions without an order: abandoned carts and browsing
    n = len(cus)
    per_customer = np.bincount(who, minlength=n)
    t_min = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(t_min, who, t)
    t_max = np.zeros(n, dtype=np.int64)
    np.maximum.at(t_max, who, t)
    newcomer = (per_customer == 0) & (cus.signup_s >= tl.start_seconds)
    lo = np.where(per_customer > 0, t_min, cus.signup_s)
    hi = np.where(per_customer > 0, t_max + 45 * DAY_S, cus.signup_s + 60 * DAY_S)
    hi = np.minimum(hi, tl.end_seconds - 3600)
    n_ab = rng.poisson(0.25 * per_customer + 0.5 * newcomer)
    n_br = rng.poisson(0.35 * per_customer + 0.3 * newcomer)
    n_ab = np.where(hi > lo, n_ab, 0)
    n_br = np.where(hi > lo, n_br, 0)
    ab_who = np.repeat(np.arange(n), n_ab)
    br_who = np.repeat(np.arange(n), n_br)
    ab_t = lo[ab_who] + (rng.random(len(ab_who)) * (hi - lo)[ab_who]).astype(np.int64)
    br_t = lo[br_who] + (rng.random(len(br_who)) * (hi - lo)[br_who]).astype(np.int64)

    def pick_products(owner: np.ndarray) -> np.ndarray:
        fav = rng.random(len(owner)) < 0.6
        cats = np.where(fav, cus.fav_cat[owner], cat.random_categories(rng, len(owner)))
        return cat.sample(rng, cats)

    ab_prod = pick_products(ab_who)
    br_prod = pick_products(br_who)
    ab_view = ab_t + rng.integers(20, 600, size=len(ab_who))
    ab_cart = ab_view + rng.integers(10, 600, size=len(ab_who))
    br_view = br_t + rng.integers(20, 900, size=len(br_who))

    parts = [
        (who[online], visit_t[online], C.EV_VISIT, None),
        (who[online], view1_t[online], C.EV_VIEW, prod1[online]),
        (who[has2], view2_t[has2], C.EV_VIEW, prod2[has2]),
        (who[online], cart_t[online], C.EV_CART, prod1[online]),
        (who[research], research_t[research], C.EV_VIEW, prod1[research]),
        (ab_who, ab_t, C.EV_VISIT, None),
        (ab_who, ab_view, C.EV_VIEW, ab_prod),
        (ab_who, ab_cart, C.EV_CART, ab_prod),
        (br_who, br_t, C.EV_VISIT, None),
        (br_who, br_view, C.EV_VIEW, br_prod),
    ]
    owner = np.concatenate([p[0] for p in parts])
    when = np.concatenate([p[1] for p in parts])
    etype = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
    product = np.concatenate(
        [p[3] if p[3] is not None else np.full(len(p[0]), -1) for p in parts]
    )
    keep = (when >= tl.start_seconds) & (when < tl.end_seconds)
    owner, when, etype, product = owner[keep], when[keep], etype[keep], product[keep]
    # two sessions can coincide to the second; keep one copy of an identical event
    by_key = np.lexsort((product, etype, owner, when))
    owner, when, etype, product = (
        owner[by_key],
        when[by_key],
        etype[by_key],
        product[by_key],
    )
    first = np.ones(len(when), dtype=bool)
    first[1:] = (
        (when[1:] != when[:-1])
        | (owner[1:] != owner[:-1])
        | (etype[1:] != etype[:-1])
        | (product[1:] != product[:-1])
    )
    return {
        "customer": owner[first],
        "t": when[first],
        "type": etype[first],
        "product": product[first],
    }
