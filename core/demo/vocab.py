"""Fixed vocabularies of the fashion-event world: cities, themes, materials, channels, ..."""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str
    country: str
    state: str | None
    latitude: float
    longitude: float
    postal_code: str
    # Ticket tax as a fraction in ten-thousandths (events.tax_rate is numeric(5,4)).
    tax_e4: int
    price_factor: float


CITIES = (
    City("Paris", "France", "Île-de-France", 48.8566, 2.3522, "75003", 550, 1.25),
    City("Milan", "Italy", "Lombardy", 45.4642, 9.1900, "20121", 1000, 1.15),
    City("New York", "United States", "NY", 40.7128, -74.0060, "10001", 888, 1.20),
    City("London", "United Kingdom", None, 51.5072, -0.1276, "EC2A 3AY", 2000, 1.15),
    City("Tokyo", "Japan", None, 35.6762, 139.6503, "150-0001", 1000, 1.05),
    City("Copenhagen", "Denmark", None, 55.6761, 12.5683, "1620", 2500, 1.00),
    City("Berlin", "Germany", "Berlin", 52.5200, 13.4050, "10117", 700, 0.90),
    City("Los Angeles", "United States", "CA", 34.0522, -118.2437, "90014", 950, 1.05),
    City("Seoul", "South Korea", None, 37.5665, 126.9780, "04524", 1000, 0.95),
    City("Madrid", "Spain", "Community of Madrid", 40.4168, -3.7038, "28004", 2100, 0.90),
    City("Stockholm", "Sweden", None, 59.3293, 18.0686, "111 52", 600, 1.00),
    City("Sydney", "Australia", "NSW", -33.8688, 151.2093, "2000", 1000, 1.00),
)

VENUE_NAMES = (
    "Grand Hall",
    "Glasshouse",
    "The Foundry",
    "Silk Warehouse",
    "Atelier Pavilion",
    "Old Exchange",
    "Riverside Pavilion",
    "Cotton Mill",
    "Orangery",
    "Gallery Nine",
    "Studio Lumière",
    "Palazzo Serra",
    "The Arcade",
    "Linen Works",
    "Crystal Court",
    "Velvet Rooms",
    "Mirror Hall",
    "North Dock",
    "Salle Céleste",
    "The Loom",
)

SEASONS = ("spring", "summer", "fall", "winter", "resort", "pre-fall", "bridal", "couture")
SEASON_TITLES = {
    "spring": "Spring/Summer",
    "summer": "Summer",
    "fall": "Fall/Winter",
    "winter": "Winter",
    "resort": "Resort",
    "pre-fall": "Pre-Fall",
    "bridal": "Bridal",
    "couture": "Haute Couture",
}

THEMES = (
    "Neo Romance",
    "Urban Nomad",
    "Quiet Luxury",
    "Coastal Grace",
    "Digital Bloom",
    "Heritage Reimagined",
    "Midnight Garden",
    "Soft Armour",
    "New Minimalism",
    "Desert Light",
    "Electric Youth",
    "Archive Stories",
    "Sculpted Silence",
    "Slow Fashion",
    "Chromatic Edge",
    "Velvet Revolution",
    "Paper Moon",
    "Tailored Rebellion",
    "Ocean Memory",
    "Glass Botanica",
)

COLORS = (
    ("Ivory", "#FFFFF0"),
    ("Onyx", "#0F0F0F"),
    ("Blush", "#DE5D83"),
    ("Sage", "#9CAF88"),
    ("Cobalt", "#0047AB"),
    ("Camel", "#C19A6B"),
    ("Burgundy", "#800020"),
    ("Champagne", "#F7E7CE"),
    ("Emerald", "#50C878"),
    ("Lilac", "#C8A2C8"),
    ("Rust", "#B7410E"),
    ("Slate", "#708090"),
    ("Sand", "#C2B280"),
    ("Fuchsia", "#FF00FF"),
    ("Teal", "#008080"),
    ("Mustard", "#FFDB58"),
)

MATERIALS = (
    "silk",
    "organic cotton",
    "linen",
    "wool",
    "cashmere",
    "recycled polyester",
    "leather",
    "vegan leather",
    "denim",
    "tulle",
    "organza",
    "velvet",
    "satin",
    "tweed",
    "jersey",
    "lace",
)

ITEM_TYPES = (
    ("dress", ("Gown", "Slip Dress", "Midi Dress", "Shirt Dress", "Column Dress")),
    ("top", ("Blouse", "Corset Top", "Knit Top", "Shirt", "Camisole")),
    ("bottom", ("Wide-Leg Trousers", "Pleated Skirt", "Cargo Pants", "Pencil Skirt", "Shorts")),
    ("outerwear", ("Trench Coat", "Cropped Jacket", "Cape", "Blazer", "Puffer")),
    ("footwear", ("Platform Boots", "Mules", "Loafers", "Sandals", "Sneakers")),
    ("accessory", ("Clutch", "Belt", "Scarf", "Earrings", "Hat")),
    ("swimwear", ("Swimsuit", "Bikini", "Cover-Up")),
    ("activewear", ("Track Jacket", "Leggings", "Sports Bra")),
)

SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL")

SPECIALTIES = (
    "Haute couture",
    "Ready-to-wear",
    "Menswear",
    "Sustainable fashion",
    "Bridal",
    "Streetwear",
    "Knitwear",
    "Accessories",
    "Footwear",
    "Evening wear",
    "Swimwear",
    "Tailoring",
)

BRAND_PATTERNS = ("Maison {}", "{} Atelier", "Studio {}", "{} & Co.", "{} Paris", "House of {}")

AGENCIES = (
    "Élan Models",
    "Northlight Management",
    "Atlas Faces",
    "Silver Thread Agency",
    "Prism Model Management",
    "Nova Talent",
    "Meridian Models",
    "Blanc Agency",
)

INDUSTRIES = (
    "Beauty",
    "Luxury Goods",
    "Automotive",
    "Beverages",
    "Technology",
    "Finance",
    "Jewelry",
    "Hospitality",
    "Fragrance",
    "Retail",
    "Telecommunications",
    "Media",
)

COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")

# Paid channels cost money; organic ones (email, organic social) are zero-cost rows.
MARKETING_CHANNELS = (
    ("email", False),
    ("instagram", True),
    ("facebook", True),
    ("tiktok", True),
    ("google_ads", True),
    ("display", True),
    ("influencer", True),
    ("sms", True),
    ("pinterest", False),
    ("youtube", True),
    ("organic_social", False),
    ("affiliate", True),
)

SOCIAL_PLATFORMS = ("instagram", "facebook", "twitter", "linkedin", "tiktok", "pinterest")

ENGAGEMENT_TYPES = (
    ("page_view", 40),
    ("event_view", 20),
    ("ticket_view", 10),
    ("add_to_cart", 6),
    ("checkout_start", 4),
    ("purchase", 3),
    ("share", 4),
    ("favorite_designer", 5),
    ("newsletter_click", 5),
    ("video_play", 3),
)
ENGAGEMENT_SOURCES = ("web", "ios", "android", "email", "social", "partner")

INTERESTS = (
    "runway",
    "streetwear",
    "sustainability",
    "couture",
    "menswear",
    "accessories",
    "beauty",
    "photography",
    "vintage",
    "textiles",
    "styling",
    "fashion tech",
)

USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "FashionistasBoxOffice/2.3 (iPadOS 17.5)",
)

SPONSOR_BENEFITS = (
    ("Logo on step-and-repeat", "branding", False, True),
    ("Front-row seats", "hospitality", False, True),
    ("Backstage access", "hospitality", False, True),
    ("Branded lounge", "activation", False, True),
    ("Newsletter feature", "digital", True, False),
    ("Social media mentions", "digital", True, False),
    ("Livestream pre-roll", "digital", True, False),
    ("Gift bag placement", "activation", False, True),
    ("Speaking slot", "content", False, False),
    ("Attendee data report", "insights", True, False),
)
