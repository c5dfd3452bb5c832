"""Create the demo data `examples/data.toml` serves: a small shop in SQLite and an FAQ collection.

.venv/bin/python examples/data/make_demo.py      (make run-data does it for you)
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from mcpcloud.packs.vectors.embedded import EmbeddedStore
from mcpcloud.packs.vectors.embeddings import LocalEmbedder
from mcpcloud.packs.vectors.store import Document

HERE = Path(__file__).parent

SHOP = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, country TEXT);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id),
    product_id INTEGER NOT NULL REFERENCES products (id), quantity INTEGER NOT NULL, ordered_at TEXT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id);
INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com', 'GB'), (2, 'Grace Hopper', 'grace@example.com', 'US'),
                             (3, 'Kurt Gödel', 'kurt@example.com', 'AT');
INSERT INTO products VALUES (1, 'Mechanical keyboard', 89.90), (2, 'USB-C cable', 9.50), (3, 'Monitor arm', 49.00);
INSERT INTO orders VALUES (1, 1, 1, 1, '2026-01-05'), (2, 1, 2, 3, '2026-01-06'), (3, 2, 3, 2, '2026-02-11'),
                          (4, 3, 2, 1, '2026-03-01');
"""

FAQ = [
    ("returns", "You can return any product within 30 days for a full refund.", "orders"),
    ("shipping-time", "Orders ship within two working days; delivery takes three to five days.", "orders"),
    ("shipping-cost", "Shipping is free for orders above 50 euros.", "orders"),
    ("warranty", "Keyboards and monitor arms have a two-year warranty.", "products"),
    ("cable-length", "The USB-C cable is one metre long and supports 100 W charging.", "products"),
    ("password", "Reset your password from the sign-in page with 'Forgot password'.", "account"),
    ("delete-account", "To delete your account, write to support; we erase your data within 30 days.", "account"),
    ("invoice", "Invoices are sent by email and can be downloaded from your order history.", "billing"),
    ("payment", "We accept cards, bank transfer and PayPal.", "billing"),
]


async def main() -> None:
    shop = HERE / "shop.db"
    shop.unlink(missing_ok=True)
    with sqlite3.connect(shop) as conn:
        conn.executescript(SHOP)
    conn.close()

    vectors = HERE / "vectors.db"
    for leftover in HERE.glob("vectors.db*"):
        leftover.unlink()
    store, embedder = EmbeddedStore(str(vectors)), LocalEmbedder()
    await store.open()
    docs = [Document(id=key, text=text, metadata={"section": section}) for key, text, section in FAQ]
    embedded = await embedder.embed_documents([d.text for d in docs])
    await store.create_collection("faq", embedder.model_id, embedded.shape[1])
    await store.upsert("faq", docs, embedded)
    await store.close()
    print(f"created {shop} and {vectors} (collection 'faq', {len(docs)} documents)")


if __name__ == "__main__":
    asyncio.run(main())
