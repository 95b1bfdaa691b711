"""Deterministic generator of the sample job postings (postings.jsonl and postings_sample.csv).

Run `python -m turing_dagster.sample_data.generate_postings` to rewrite both files next to this module,
or pass `--out-dir DIR` to write them elsewhere. The same seed always gives byte-identical files:
every choice comes from one `random.Random(seed)`, consumed in a fixed order, and nothing reads the clock.

Besides ordinary postings in many industries, seniorities and locations, the set deliberately holds the
inputs a posting pipeline meets in the wild: empty and whitespace-only descriptions, very long ones,
German, French and Spanish postings, HTML exports, text with braces that look like prompt placeholders,
emoji and other unicode, missing titles, disabled postings, reposts and scam-like postings.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 3001
TOTAL_POSTINGS = 250
CSV_ROWS = 10
HERE = Path(__file__).resolve().parent
JSONL_NAME = "postings.jsonl"
CSV_NAME = "postings_sample.csv"
CSV_COLUMNS = ("posting_id", "job_title", "job_description", "company")
EPOCH = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------------------
# Regions: where a posting is, how its pay is written, and which benefits are customary there.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    key: str
    cities: tuple[str, ...]
    currency: str  # prefix, e.g. "$", "£", "€", "CHF "
    annual_factor: float  # local pay relative to a US mid-level figure
    hourly_factor: float
    sources: tuple[str, ...]
    benefits: tuple[str, ...]
    year_word: str = "per year"


US_BENEFITS = (
    "Medical, dental and vision insurance starting on day one",
    "401(k) with a 4% company match",
    "Paid time off plus 10 paid holidays",
    "Employee assistance program",
    "Life and disability insurance",
    "Tuition reimbursement",
    "Health savings account with an employer contribution",
    "Paid parental leave",
    "Commuter benefits",
)
EU_BENEFITS = (
    "30 days of paid holiday",
    "Company pension scheme with employer contribution",
    "Public transport ticket",
    "Annual learning budget",
    "Flexible working hours",
    "Subsidised gym membership",
    "Bike leasing",
    "Paid parental leave on top of the statutory minimum",
    "Free drinks and fruit at work",
)
UK_BENEFITS = (
    "25 days' annual leave plus bank holidays",
    "Workplace pension with 5% employer contribution",
    "Private medical insurance",
    "Cycle to work scheme",
    "Enhanced maternity and paternity pay",
    "Employee assistance programme",
    "Season ticket loan",
    "Life assurance at 4x salary",
)

REGIONS = {
    "us": Region(
        "us",
        (
            "Austin, TX",
            "Chicago, IL",
            "Denver, CO",
            "Atlanta, GA",
            "Seattle, WA",
            "Columbus, OH",
            "Phoenix, AZ",
            "Boston, MA",
            "Memphis, TN",
            "Raleigh, NC",
            "Minneapolis, MN",
            "Sacramento, CA",
            "Pittsburgh, PA",
        ),
        "$",
        1.0,
        1.0,
        ("linkedin", "indeed", "glassdoor", "company_careers_page", "greenhouse", "workday"),
        US_BENEFITS,
    ),
    "uk": Region(
        "uk",
        ("London, UK", "Manchester, UK", "Leeds, UK", "Bristol, UK", "Birmingham, UK", "Glasgow, UK"),
        "£",
        0.62,
        0.6,
        ("linkedin", "indeed", "reed", "totaljobs", "company_careers_page"),
        UK_BENEFITS,
        "per annum",
    ),
    "de": Region(
        "de",
        (
            "Berlin, Germany",
            "Munich, Germany",
            "Hamburg, Germany",
            "Frankfurt am Main, Germany",
            "Cologne, Germany",
            "Stuttgart, Germany",
        ),
        "€",
        0.72,
        0.68,
        ("linkedin", "stepstone", "company_careers_page", "personio"),
        EU_BENEFITS,
    ),
    "nl": Region(
        "nl",
        ("Amsterdam, Netherlands", "Rotterdam, Netherlands", "Utrecht, Netherlands"),
        "€",
        0.72,
        0.7,
        ("linkedin", "indeed", "company_careers_page"),
        EU_BENEFITS,
    ),
    "ie": Region(
        "ie",
        ("Dublin, Ireland", "Cork, Ireland", "Galway, Ireland"),
        "€",
        0.78,
        0.72,
        ("linkedin", "irishjobs", "company_careers_page"),
        EU_BENEFITS,
    ),
    "ca": Region(
        "ca",
        ("Toronto, ON", "Vancouver, BC", "Calgary, AB", "Ottawa, ON"),
        "CA$",
        1.05,
        1.05,
        ("linkedin", "indeed", "workday"),
        US_BENEFITS[2:],
    ),
    "ch": Region(
        "ch",
        ("Zurich, Switzerland", "Basel, Switzerland", "Geneva, Switzerland"),
        "CHF ",
        1.1,
        1.3,
        ("linkedin", "jobs.ch", "company_careers_page"),
        EU_BENEFITS,
    ),
    "remote": Region(
        "remote",
        ("Remote (US)", "Remote (EU time zones)", "Remote - anywhere in Europe", "Remote (US/Canada)"),
        "$",
        1.0,
        1.0,
        ("linkedin", "weworkremotely", "greenhouse", "lever"),
        US_BENEFITS[2:] + EU_BENEFITS[3:5],
    ),
}

ALL_REGIONS = ("us", "us", "us", "uk", "uk", "de", "de", "nl", "ie", "ca", "ch", "remote")
OFFICE_REGIONS = ("us", "us", "us", "uk", "uk", "de", "nl", "ie", "ca")
LOCAL_REGIONS = ("us", "us", "us", "us", "uk", "uk", "ie", "ca")
US_ONLY = ("us", "us", "us", "ca")

# ---------------------------------------------------------------------------------------------------------
# Industries (companies, customary benefits) and role families (titles, duties, requirements).
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Industry:
    key: str
    companies: tuple[tuple[str, str], ...]  # (name, about text)
    benefits: tuple[str, ...]


INDUSTRIES = {
    "software": Industry(
        "software",
        (
            (
                "Brightloop Software",
                (
                    "Brightloop Software builds scheduling and payments tools used by more than "
                    "40,000 small businesses. We are a profitable, 180-person company with teams across North America "
                    "and Europe, and we ship to production dozens of times a day."
                ),
            ),
            (
                "Kestrel Systems",
                (
                    "Kestrel Systems makes fleet telematics software that helps transport companies "
                    "cut fuel use and keep drivers safe. Our platform processes over two billion GPS events a week."
                ),
            ),
            (
                "Tidewater Cloud",
                (
                    "Tidewater Cloud is a managed hosting provider for regulated industries. Hospitals, "
                    "insurers and public agencies trust us to run their workloads securely and around the clock."
                ),
            ),
            (
                "Fernhill Health Tech",
                (
                    "Fernhill Health Tech builds the patient intake and appointment platform used "
                    "by 1,200 clinics. Our mission is to give clinicians back the hour a day they lose to paperwork."
                ),
            ),
            (
                "Quayside Labs",
                (
                    "Quayside Labs is a Series B startup building collaborative document software for "
                    "legal and compliance teams. We are 65 people, remote-first with small hubs, and growing steadily."
                ),
            ),
        ),
        ("Home office stipend", "Stock options", "Conference and training budget", "Latest MacBook or Linux laptop"),
    ),
    "data": Industry(
        "data",
        (
            (
                "Meridian Insights",
                (
                    "Meridian Insights helps retailers understand demand. Our forecasting products "
                    "cover 30,000 stores and guide billions of dollars of inventory decisions each year."
                ),
            ),
            (
                "Lumen Analytics",
                (
                    "Lumen Analytics is the data and analytics consultancy behind dashboards and models "
                    "for energy, mobility and public-sector clients. We are 120 analysts and engineers."
                ),
            ),
            (
                "Harbor Mutual Insurance",
                (
                    "Harbor Mutual Insurance has protected families and small businesses for "
                    "over 90 years. Our data office is modernising how we price risk and handle claims."
                ),
            ),
            (
                "Cobalt Mobility",
                (
                    "Cobalt Mobility runs shared e-bike and scooter fleets in 14 cities. Everything we "
                    "do, from rebalancing to pricing, is driven by data."
                ),
            ),
        ),
        ("Conference and training budget", "Hybrid working with two office days a week", "Annual bonus"),
    ),
    "healthcare": Industry(
        "healthcare",
        (
            (
                "St. Brigid Regional Medical Center",
                (
                    "St. Brigid Regional Medical Center is a 420-bed, Magnet-recognised "
                    "teaching hospital and Level II trauma centre serving a community of 600,000 people."
                ),
            ),
            (
                "Valley Crest Health",
                (
                    "Valley Crest Health is a nonprofit network of two hospitals, 18 primary care "
                    "clinics and a home health agency, rooted in its community since 1952."
                ),
            ),
            (
                "Northgate Community Clinics",
                (
                    "Northgate Community Clinics is a federally qualified health centre "
                    "providing primary, dental and behavioural care regardless of a patient's ability to pay."
                ),
            ),
            (
                "Evergreen Senior Living",
                (
                    "Evergreen Senior Living operates 11 assisted-living and skilled nursing "
                    "communities where residents are known by name and treated like family."
                ),
            ),
        ),
        (
            "Shift differentials for evenings, nights and weekends",
            "Sign-on bonus",
            "Free parking",
            "CEU reimbursement and certification support",
            "Student loan repayment assistance",
        ),
    ),
    "logistics": Industry(
        "logistics",
        (
            (
                "Redline Freight",
                (
                    "Redline Freight is an asset-based carrier with 1,800 trucks and 22 terminals, "
                    "moving dry van and refrigerated freight across the country."
                ),
            ),
            (
                "Parcelway Logistics",
                (
                    "Parcelway Logistics runs e-commerce fulfilment and last-mile delivery for more "
                    "than 300 online brands out of six regional distribution centres."
                ),
            ),
            (
                "Northstar Cold Chain",
                (
                    "Northstar Cold Chain stores and ships temperature-controlled food and "
                    "pharmaceuticals. Our customers count on us to keep every pallet within two degrees of spec."
                ),
            ),
            (
                "Crossdock Partners",
                (
                    "Crossdock Partners is a third-party logistics provider managing inbound, "
                    "warehousing and outbound freight for automotive and industrial customers."
                ),
            ),
        ),
        ("Weekly pay", "Overtime available", "Safety boots allowance", "Paid training"),
    ),
    "finance": Industry(
        "finance",
        (
            (
                "Ashford & Keane Capital",
                (
                    "Ashford & Keane Capital is an independent asset manager with $14bn under "
                    "management for pension funds, foundations and private clients."
                ),
            ),
            (
                "Union Harbour Bank",
                (
                    "Union Harbour Bank is a regional bank with 140 branches, focused on personal "
                    "banking and lending to small and mid-sized businesses."
                ),
            ),
            (
                "Pemberton Group",
                (
                    "Pemberton Group is a family-owned building-materials group with 3,500 employees and "
                    "a finance team that supports 40 operating companies."
                ),
            ),
            (
                "Clearwater Payments",
                (
                    "Clearwater Payments processes card and bank payments for online merchants in "
                    "24 countries. We are regulated as an e-money institution."
                ),
            ),
        ),
        ("Annual bonus", "Study support for ACCA, CIMA or CPA", "Hybrid working", "Volunteering days"),
    ),
    "education": Industry(
        "education",
        (
            (
                "Maple Grove Unified School District",
                (
                    "Maple Grove Unified School District serves 14,000 students in "
                    "21 schools and is known for its strong arts, STEM and inclusion programmes."
                ),
            ),
            (
                "Riverside Academy Trust",
                (
                    "Riverside Academy Trust is a multi-academy trust of nine primary and "
                    "secondary schools committed to high expectations and kind, calm classrooms."
                ),
            ),
            (
                "Little Acorns Early Learning",
                (
                    "Little Acorns Early Learning runs 16 nurseries and preschools where "
                    "children from six weeks to five years learn through play."
                ),
            ),
            (
                "Lingua Bridge Institute",
                (
                    "Lingua Bridge Institute teaches English and professional communication "
                    "to adults, online and in eight city centres."
                ),
            ),
        ),
        ("Summer break", "Professional development days", "Classroom supplies budget", "Childcare discount"),
    ),
    "hospitality": Industry(
        "hospitality",
        (
            (
                "The Alder Hotel",
                (
                    "The Alder Hotel is a 210-room boutique hotel with a rooftop bar, two restaurants and "
                    "event space for 400 guests, in the heart of downtown."
                ),
            ),
            (
                "Copper Pot Restaurant Group",
                (
                    "Copper Pot Restaurant Group operates nine neighbourhood restaurants "
                    "built around seasonal, scratch-made food and warm service."
                ),
            ),
            (
                "Saltmarsh Resort & Spa",
                (
                    "Saltmarsh Resort & Spa is a coastal resort with 160 rooms, a full-service spa, "
                    "three restaurants and a busy wedding calendar."
                ),
            ),
            (
                "Bean & Barrel Coffee Co.",
                (
                    "Bean & Barrel Coffee Co. roasts its own coffee and runs 23 cafés. We hire "
                    "for attitude and train for skill."
                ),
            ),
        ),
        (
            "Free staff meals on shift",
            "Hotel room discounts",
            "Tips shared fairly across the team",
            "Flexible scheduling",
        ),
    ),
    "manufacturing": Industry(
        "manufacturing",
        (
            (
                "Ironbridge Precision",
                (
                    "Ironbridge Precision machines complex components for aerospace and medical "
                    "customers. Our 240-person plant is AS9100 and ISO 13485 certified."
                ),
            ),
            (
                "Harlow Plastics",
                (
                    "Harlow Plastics makes injection-moulded parts for the automotive and appliance "
                    "industries on 65 presses running three shifts."
                ),
            ),
            (
                "Solvay Street Foods",
                (
                    "Solvay Street Foods produces sauces, dressings and ready meals for national "
                    "grocery brands from two SQF-certified plants."
                ),
            ),
            (
                "Voltaic Battery Systems",
                (
                    "Voltaic Battery Systems assembles battery packs for electric buses and "
                    "grid storage and is tripling its production capacity this year."
                ),
            ),
        ),
        (
            "Shift premium for 2nd and 3rd shift",
            "Quarterly attendance bonus",
            "Safety glasses and boots provided",
            "Paid apprenticeship and upskilling programme",
        ),
    ),
    "sales": Industry(
        "sales",
        (
            (
                "Signalpath Software",
                (
                    "Signalpath Software sells call-centre analytics to mid-market and enterprise "
                    "companies. Our customers include airlines, utilities and healthcare providers."
                ),
            ),
            (
                "Greenleaf Office Supply",
                (
                    "Greenleaf Office Supply delivers office, janitorial and breakroom products "
                    "to 25,000 business customers with next-day delivery."
                ),
            ),
            (
                "Atlas Industrial Equipment",
                (
                    "Atlas Industrial Equipment distributes compressors, pumps and "
                    "material-handling equipment and services them across the region."
                ),
            ),
        ),
        ("Uncapped commission", "Company car or car allowance", "President's Club trip", "Mobile phone and laptop"),
    ),
    "retail": Industry(
        "retail",
        (
            (
                "Hartwell Home & Garden",
                (
                    "Hartwell Home & Garden runs 85 stores for DIY, garden and home "
                    "improvement, staffed by people who love helping customers finish their projects."
                ),
            ),
            (
                "Pine & Needle Outfitters",
                (
                    "Pine & Needle Outfitters sells outdoor clothing and gear in 40 stores "
                    "and online, and repairs what it sells."
                ),
            ),
            (
                "FreshWay Markets",
                (
                    "FreshWay Markets is a regional grocery chain of 60 stores known for fresh "
                    "produce, local suppliers and friendly service."
                ),
            ),
        ),
        ("Employee discount", "Flexible shifts", "Paid breaks", "Career paths into store management"),
    ),
    "legal": Industry(
        "legal",
        (
            (
                "Whitcombe Lyle LLP",
                (
                    "Whitcombe Lyle LLP is a full-service law firm of 280 lawyers advising companies, "
                    "lenders and public bodies on transactions, disputes and regulation."
                ),
            ),
            (
                "Baird Okafor & Partners",
                (
                    "Baird Okafor & Partners is a litigation boutique handling commercial, "
                    "employment and insurance disputes."
                ),
            ),
            (
                "Clearwater Payments",
                (
                    "Clearwater Payments processes card and bank payments for online merchants in "
                    "24 countries. Our legal team supports product, partnerships and regulators."
                ),
            ),
            (
                "Pemberton Group",
                (
                    "Pemberton Group is a family-owned building-materials group with 3,500 employees. "
                    "Its in-house legal team of eight supports all operating companies."
                ),
            ),
        ),
        (
            "Billable hour targets that leave room for a life",
            "Bar and professional membership fees paid",
            "Pro bono programme",
        ),
    ),
    "support": Industry(
        "support",
        (
            (
                "Helio Broadband",
                (
                    "Helio Broadband provides fibre internet and TV to 900,000 homes and is investing "
                    "heavily in the quality of its customer care."
                ),
            ),
            (
                "Brightloop Software",
                (
                    "Brightloop Software builds scheduling and payments tools used by more than "
                    "40,000 small businesses, and our support team is rated 4.8 out of 5 by customers."
                ),
            ),
            (
                "Sunvale Utilities",
                (
                    "Sunvale Utilities supplies electricity and gas to 1.2 million customers and "
                    "runs three contact centres."
                ),
            ),
        ),
        ("Paid training from day one", "Work-from-home after training", "Performance bonus"),
    ),
    "construction": Industry(
        "construction",
        (
            (
                "Granite Peak Builders",
                (
                    "Granite Peak Builders is a general contractor delivering schools, hospitals "
                    "and multi-family housing, with annual revenues of $600m."
                ),
            ),
            (
                "Brightwire Electrical",
                (
                    "Brightwire Electrical is a commercial and residential electrical contractor "
                    "with 90 field technicians."
                ),
            ),
            (
                "Comfort Zone Mechanical",
                (
                    "Comfort Zone Mechanical installs and services heating, cooling and "
                    "plumbing systems for homes and light-commercial buildings."
                ),
            ),
        ),
        ("Company van, tools and fuel card", "Union-scale wages", "Paid apprenticeship", "Overtime at time and a half"),
    ),
    "marketing": Industry(
        "marketing",
        (
            (
                "Foxglove Creative",
                (
                    "Foxglove Creative is an independent agency of 70 strategists, writers and "
                    "designers working with consumer brands and nonprofits."
                ),
            ),
            (
                "Pine & Needle Outfitters",
                (
                    "Pine & Needle Outfitters sells outdoor clothing and gear in 40 stores and "
                    "online. Our brand team tells the stories of the people and places behind our products."
                ),
            ),
            (
                "Signalpath Software",
                (
                    "Signalpath Software sells call-centre analytics to mid-market and enterprise "
                    "companies, and marketing drives about half of our pipeline."
                ),
            ),
            (
                "Quayside Labs",
                (
                    "Quayside Labs is a Series B startup building collaborative document software for "
                    "legal and compliance teams."
                ),
            ),
        ),
        ("Creative tools budget", "Four-day weeks in August", "Hybrid working"),
    ),
    "hr_admin": Industry(
        "hr_admin",
        (
            (
                "Pemberton Group",
                (
                    "Pemberton Group is a family-owned building-materials group with 3,500 employees "
                    "across 40 operating companies."
                ),
            ),
            (
                "Whitcombe Lyle LLP",
                (
                    "Whitcombe Lyle LLP is a full-service law firm of 280 lawyers and 300 business "
                    "services professionals."
                ),
            ),
            (
                "Valley Crest Health",
                ("Valley Crest Health is a nonprofit network of two hospitals and 18 clinics employing 4,000 people."),
            ),
            (
                "Kestrel Systems",
                (
                    "Kestrel Systems makes fleet telematics software and has grown from 120 to 450 "
                    "people in three years."
                ),
            ),
        ),
        ("Hybrid working", "Annual bonus", "Professional membership fees paid"),
    ),
    "social_care": Industry(
        "social_care",
        (
            (
                "Hollybank Care",
                (
                    "Hollybank Care supports adults with learning disabilities and autism to live "
                    "independently in their own homes and in small supported-living services."
                ),
            ),
            (
                "Evergreen Senior Living",
                ("Evergreen Senior Living operates 11 assisted-living and skilled nursing communities."),
            ),
            (
                "Brookside Family Services",
                (
                    "Brookside Family Services is a charity working with children, young "
                    "people and families facing hardship, in partnership with the county council."
                ),
            ),
        ),
        ("Paid induction and qualifications", "Mileage allowance", "Wellbeing support and clinical supervision"),
    ),
}


@dataclass(frozen=True)
class Role:
    industry: str
    titles: tuple[str, ...]
    pay: tuple[str, float]  # ("annual" | "hourly", US mid-level figure)
    duties: tuple[str, ...]  # imperative phrases, no final period
    reqs: tuple[str, ...]  # noun phrases; "{years}" is replaced with a number
    nice: tuple[str, ...]
    teams: tuple[str, ...]
    regions: tuple[str, ...] = OFFICE_REGIONS
    seniority: bool = True
    employment: tuple[str, ...] = ("Full-time",)
    remote: tuple[str, ...] = ("On-site",)
    companies: tuple[str, ...] = ()  # restrict to these employers of the industry (default: any)


ROLES: tuple[Role, ...] = (
    # --- software ---
    Role(
        "software",
        (
            "Backend Engineer",
            "Software Engineer, Backend",
            "Python Developer",
            "Backend Developer (Go)",
            "Java Software Engineer",
        ),
        ("annual", 125000),
        (
            "Design, build and operate the APIs and services behind our web and mobile apps",
            "Own features end to end, from technical design to monitoring in production",
            "Write clean, tested code and review your teammates' pull requests",
            "Improve the performance and reliability of our PostgreSQL-backed services",
            "Take part in a fair, well-compensated on-call rotation",
            "Work closely with product managers and designers to shape what we build",
            "Break down large projects into small, safe, incremental releases",
            "Mentor engineers and help raise the bar of our engineering practices",
        ),
        (
            "{years}+ years of professional software development experience",
            "Strong skills in Python, Go or Java",
            "Solid understanding of relational databases and SQL",
            "Experience building and consuming REST or gRPC APIs",
            "Familiarity with Docker and a major cloud provider (AWS, GCP or Azure)",
            "Clear written communication in English",
        ),
        (
            "Experience with Kafka or another event streaming platform",
            "Kubernetes in production",
            "Payments or fintech background",
            "Contributions to open-source projects",
        ),
        ("Payments", "Platform", "Scheduling", "Integrations", "Core API"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote", "On-site"),
    ),
    Role(
        "software",
        ("Frontend Developer", "Frontend Engineer (React)", "UI Engineer", "Web Developer"),
        ("annual", 112000),
        (
            "Build accessible, responsive user interfaces in React and TypeScript",
            "Turn Figma designs into polished, reusable components for our design system",
            "Improve page load times and Core Web Vitals across the product",
            "Write unit and end-to-end tests with Jest and Playwright",
            "Collaborate with backend engineers on API contracts",
            "Champion accessibility (WCAG 2.1 AA) in every feature we ship",
        ),
        (
            "{years}+ years of experience building web applications",
            "Strong knowledge of JavaScript, TypeScript, HTML and CSS",
            "Hands-on experience with React",
            "An eye for detail and good UX instincts",
            "Experience with Git-based workflows and code review",
        ),
        (
            "Next.js or server-side rendering experience",
            "Experience with data visualisation libraries",
            "Familiarity with GraphQL",
        ),
        ("Growth", "Design System", "Customer Dashboard", "Checkout"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    Role(
        "software",
        ("Site Reliability Engineer", "DevOps Engineer", "Platform Engineer", "Cloud Infrastructure Engineer"),
        ("annual", 135000),
        (
            "Run and evolve our Kubernetes platform across three AWS regions",
            "Manage infrastructure as code with Terraform and keep it reviewable",
            "Define service-level objectives with product teams and build the alerting around them",
            "Automate build, test and deployment pipelines in GitHub Actions",
            "Lead incident response and write blameless post-incident reviews",
            "Reduce cloud spend without sacrificing reliability",
            "Harden our systems to meet SOC 2 and ISO 27001 controls",
        ),
        (
            "{years}+ years in an SRE, DevOps or infrastructure role",
            "Production experience with Kubernetes and Terraform",
            "Strong Linux and networking fundamentals",
            "Scripting skills in Python, Go or Bash",
            "Experience with Prometheus, Grafana or Datadog",
        ),
        (
            "AWS certifications",
            "Experience with service meshes such as Istio or Linkerd",
            "Background in a regulated industry",
        ),
        ("Platform", "Infrastructure", "Reliability", "Developer Experience"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    Role(
        "software",
        ("iOS Developer", "Android Developer", "Mobile Engineer (React Native)"),
        ("annual", 118000),
        (
            "Build new features for our mobile app used by 300,000 people every day",
            "Keep the app fast, stable and crash-free across devices and OS versions",
            "Work with designers to craft smooth, native-feeling interactions",
            "Own releases to the App Store and Google Play",
            "Write automated tests and improve our CI pipeline for mobile",
        ),
        (
            "{years}+ years of mobile development experience",
            "Fluency in Swift, Kotlin or TypeScript",
            "At least one app you helped build published in a store",
            "Understanding of offline-first patterns",
        ),
        ("Experience with accessibility on mobile", "Background in healthcare or fintech apps"),
        ("Mobile", "Consumer App", "Driver App"),
        OFFICE_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    Role(
        "software",
        ("QA Automation Engineer", "Software Test Engineer", "Quality Assurance Analyst"),
        ("annual", 92000),
        (
            "Design and maintain automated UI and API test suites",
            "Write clear test plans and test cases for new features",
            "Run exploratory testing before each release and report defects with clear reproduction steps",
            "Integrate automated tests into our CI/CD pipelines",
            "Track quality metrics and help the team prevent regressions",
        ),
        (
            "{years}+ years of experience in software testing",
            "Experience with Selenium, Cypress or Playwright",
            "Basic programming skills in Python, Java or JavaScript",
            "Experience testing REST APIs with Postman or similar tools",
            "A methodical, curious mindset",
        ),
        ("ISTQB certification", "Performance testing with k6 or JMeter"),
        ("Quality Engineering", "Release", "Payments"),
        OFFICE_REGIONS,
        remote=("Hybrid", "On-site"),
    ),
    Role(
        "software",
        ("Engineering Manager", "Engineering Manager, Platform", "Head of Engineering"),
        ("annual", 175000),
        (
            "Lead, coach and grow a team of six to eight engineers",
            "Hire great engineers and build an inclusive team culture",
            "Partner with product and design to set quarterly goals and deliver on them",
            "Keep technical quality high while balancing delivery speed",
            "Run effective one-on-ones, career conversations and performance reviews",
            "Represent your team's work to senior leadership",
        ),
        (
            "3+ years managing software engineering teams",
            "A background as a hands-on software engineer",
            "Track record of delivering complex projects",
            "Strong written and verbal communication",
        ),
        ("Experience scaling a team through rapid growth", "Experience with distributed teams"),
        ("Platform", "Payments", "Mobile"),
        ALL_REGIONS,
        seniority=False,
        remote=("Hybrid", "Remote"),
    ),
    # --- data ---
    Role(
        "data",
        ("Data Analyst", "Business Intelligence Analyst", "Reporting Analyst", "Product Analyst"),
        ("annual", 82000),
        (
            "Build and maintain dashboards in Tableau, Power BI or Looker",
            "Answer business questions with SQL and present the findings to stakeholders",
            "Define and document KPIs together with finance, operations and product",
            "Run A/B test analyses and explain the results in plain language",
            "Automate recurring reports and improve data quality checks",
            "Translate vague requests into clear, well-scoped analyses",
        ),
        (
            "{years}+ years of experience in a data or analytics role",
            "Advanced SQL",
            "Experience with at least one BI tool",
            "Excel skills including pivot tables and lookups",
            "Ability to explain numbers to non-technical colleagues",
        ),
        ("Python or R for analysis", "Experience with dbt", "Retail or e-commerce background"),
        ("Commercial Analytics", "Operations Analytics", "Product Insights", "Finance BI"),
        ALL_REGIONS,
        remote=("Hybrid", "On-site", "Remote"),
    ),
    Role(
        "data",
        ("Data Engineer", "Analytics Engineer", "ETL Developer"),
        ("annual", 125000),
        (
            "Build reliable batch and streaming pipelines into our Snowflake warehouse",
            "Model data with dbt so that analysts can trust and reuse it",
            "Orchestrate workflows with Airflow or Dagster and monitor them",
            "Improve data quality with tests, contracts and alerting",
            "Work with data scientists to productionise features and models",
            "Keep personal data secure and compliant with GDPR",
        ),
        (
            "{years}+ years of data engineering experience",
            "Strong SQL and Python",
            "Experience with a cloud data warehouse such as Snowflake, BigQuery or Redshift",
            "Hands-on experience with an orchestrator such as Airflow or Dagster",
            "Understanding of dimensional modelling",
        ),
        ("Spark or Flink experience", "Experience with Kafka", "Terraform"),
        ("Data Platform", "Analytics Engineering", "Forecasting"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    Role(
        "data",
        ("Data Scientist", "Machine Learning Engineer", "Applied Scientist, NLP"),
        ("annual", 140000),
        (
            "Develop forecasting, ranking and classification models that ship to production",
            "Design experiments and measure the impact of models on business outcomes",
            "Work with engineers to deploy, monitor and retrain models",
            "Explore new methods, including large language models, where they solve real problems",
            "Communicate results and trade-offs clearly to non-technical audiences",
        ),
        (
            "{years}+ years of applied machine learning experience",
            "Strong Python and experience with scikit-learn, PyTorch or similar",
            "Solid grounding in statistics and experimental design",
            "Experience putting models into production",
            "A degree in a quantitative field or equivalent experience",
        ),
        ("Experience with LLM evaluation and prompt engineering", "MLOps tooling such as MLflow", "Published research"),
        ("Forecasting", "Pricing", "Search & Ranking", "Claims Automation"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    # --- healthcare ---
    Role(
        "healthcare",
        (
            "Registered Nurse - ICU",
            "Registered Nurse - Med/Surg",
            "Registered Nurse - Emergency Department",
            "Charge Nurse - Telemetry",
            "Registered Nurse - Labor & Delivery",
        ),
        ("hourly", 44),
        (
            "Assess, plan, implement and evaluate nursing care for an assigned group of patients",
            "Administer medications and treatments according to physician orders and hospital policy",
            "Monitor patients' condition and respond quickly to changes",
            "Document care accurately in Epic",
            "Educate patients and families about diagnoses, medications and discharge plans",
            "Collaborate with physicians, therapists and case managers in an interdisciplinary team",
            "Precept new graduate nurses and nursing students",
        ),
        (
            "Current RN license in the state, or a compact license",
            "BLS and ACLS certification (PALS for pediatric units)",
            "{years}+ years of acute care nursing experience",
            "Associate or bachelor's degree in nursing",
        ),
        ("BSN", "CCRN or specialty certification", "Epic experience"),
        ("ICU", "Medical-Surgical", "Emergency", "Telemetry", "Women's Health"),
        US_ONLY,
        seniority=False,
        employment=("Full-time", "Part-time", "Per diem", "Full-time, 3x12-hour shifts"),
        companies=("St. Brigid Regional Medical Center", "Valley Crest Health"),
    ),
    Role(
        "healthcare",
        ("Licensed Practical Nurse", "Certified Nursing Assistant", "Patient Care Technician"),
        ("hourly", 23),
        (
            "Assist residents and patients with bathing, dressing, eating and mobility",
            "Take and record vital signs, intake and output",
            "Report changes in a patient's condition to the charge nurse",
            "Keep rooms clean, safe and well stocked",
            "Support patients with dignity, patience and respect",
            "Administer medications within your scope of practice (LPN)",
        ),
        (
            "Active LPN license or CNA certification",
            "BLS certification",
            "Ability to lift up to 50 lb and stand for long periods",
            "Compassion and good communication skills",
        ),
        ("Experience in long-term care or rehabilitation", "Bilingual English/Spanish"),
        ("Skilled Nursing", "Memory Care", "Rehabilitation"),
        US_ONLY,
        seniority=False,
        employment=("Full-time", "Part-time", "Per diem"),
    ),
    Role(
        "healthcare",
        ("Nurse Practitioner - Primary Care", "Family Nurse Practitioner", "Physician Assistant - Urgent Care"),
        ("annual", 128000),
        (
            (
                "Provide primary care to patients of all ages, including diagnosis and treatment of acute and chronic "
                "conditions"
            ),
            "Order and interpret diagnostic tests",
            "Prescribe medications and create care plans",
            "Deliver preventive care and health education",
            "Work alongside physicians, behavioural health staff and care coordinators",
        ),
        (
            "Current state NP or PA license and DEA registration",
            "National board certification",
            "{years}+ years of clinical experience as an NP or PA",
            "Commitment to serving underserved communities",
        ),
        ("Spanish language skills", "Experience in a community health centre"),
        ("Primary Care", "Urgent Care", "Family Medicine"),
        US_ONLY,
        seniority=False,
        employment=("Full-time", "Part-time"),
        companies=("Northgate Community Clinics", "Valley Crest Health"),
    ),
    Role(
        "healthcare",
        ("Medical Assistant", "Phlebotomist", "Pharmacy Technician", "Medical Receptionist"),
        ("hourly", 20),
        (
            "Room patients, take vital signs and update medical histories",
            "Collect blood samples and prepare specimens for the lab",
            "Schedule appointments and verify insurance information",
            "Keep exam rooms and supplies ready for providers",
            "Answer patient calls and route messages to the care team",
        ),
        (
            "High school diploma or equivalent",
            "Medical assistant, phlebotomy or pharmacy technician certification",
            "Customer-service mindset",
            "Basic computer skills",
        ),
        ("Experience with eClinicalWorks or Epic", "Bilingual"),
        ("Primary Care", "Outpatient Lab", "Pharmacy"),
        US_ONLY,
        seniority=False,
        employment=("Full-time", "Part-time"),
        companies=("Northgate Community Clinics", "Valley Crest Health", "St. Brigid Regional Medical Center"),
    ),
    Role(
        "healthcare",
        ("Physical Therapist", "Occupational Therapist", "Speech-Language Pathologist"),
        ("annual", 96000),
        (
            "Evaluate patients and design individual treatment plans",
            "Deliver therapy in inpatient, outpatient or home settings",
            "Document progress and outcomes in the electronic health record",
            "Educate patients and caregivers on home exercise programmes",
            "Work with physicians and nurses to plan safe discharges",
        ),
        (
            "Licensed or license-eligible in the state",
            "Doctorate or master's degree from an accredited programme",
            "CPR certification",
            "Strong clinical reasoning and communication skills",
        ),
        ("Orthopaedic or neurological specialisation", "Home health experience"),
        ("Outpatient Rehab", "Inpatient Rehab", "Home Health"),
        US_ONLY,
        seniority=False,
        employment=("Full-time", "Part-time", "Per diem"),
        companies=("St. Brigid Regional Medical Center", "Valley Crest Health", "Evergreen Senior Living"),
    ),
    # --- logistics ---
    Role(
        "logistics",
        (
            "Warehouse Associate",
            "Picker/Packer",
            "Order Fulfillment Associate",
            "Forklift Operator",
            "Reach Truck Operator",
        ),
        ("hourly", 19.5),
        (
            "Pick, pack and ship customer orders accurately using RF scanners",
            "Load and unload trucks and containers",
            "Move pallets safely with sit-down or stand-up forklifts",
            "Count and reconcile inventory during cycle counts",
            "Keep aisles and work areas clean, organised and safe",
            "Follow all safety procedures and report hazards",
        ),
        (
            "Ability to lift up to 50 lb repeatedly",
            "Reliable attendance and punctuality",
            "Forklift certification, or willingness to be certified (we train)",
            "Minimum age 18",
        ),
        ("Warehouse management system experience", "Previous experience in a distribution centre"),
        ("Inbound", "Outbound", "Returns", "Cold Storage"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time", "Part-time", "Temporary", "Full-time, night shift", "Seasonal"),
    ),
    Role(
        "logistics",
        ("CDL-A Truck Driver", "Regional Truck Driver", "Class B Delivery Driver", "Route Delivery Driver"),
        ("hourly", 27),
        (
            "Drive safely on regional or local routes and deliver freight on time",
            "Perform pre-trip and post-trip vehicle inspections",
            "Load, secure and unload freight, sometimes with a pallet jack or liftgate",
            "Keep accurate logs with our ELD system",
            "Represent the company professionally to customers",
        ),
        (
            "Valid CDL-A or CDL-B license",
            "Clean driving record and DOT medical card",
            "{years}+ months of verifiable driving experience",
            "Ability to pass a drug screen",
        ),
        ("Hazmat or tanker endorsement", "Reefer experience"),
        ("Regional", "Dedicated", "Last Mile"),
        ("us", "us", "ca"),
        seniority=False,
        employment=("Full-time", "Full-time, home weekly"),
    ),
    Role(
        "logistics",
        (
            "Logistics Coordinator",
            "Transportation Planner",
            "Dispatcher",
            "Supply Chain Analyst",
            "Inventory Control Specialist",
        ),
        ("annual", 60000),
        (
            "Plan and book inbound and outbound shipments with carriers",
            "Track shipments and proactively resolve delays and exceptions",
            "Maintain accurate data in our TMS and WMS",
            "Analyse freight costs, lead times and carrier performance",
            "Work with customers, warehouse teams and drivers to keep freight moving",
            "Prepare customs and shipping documentation",
        ),
        (
            "{years}+ years of experience in logistics or supply chain",
            "Strong Excel skills",
            "Experience with a TMS or ERP such as SAP",
            "Calm under pressure and well organised",
        ),
        ("APICS/ASCM certification", "Customs or international freight knowledge", "Second language"),
        ("Transportation", "Inventory", "Customer Logistics"),
        OFFICE_REGIONS,
        remote=("On-site", "Hybrid"),
    ),
    Role(
        "logistics",
        ("Warehouse Shift Supervisor", "Operations Manager - Distribution Center", "Transport Manager"),
        ("annual", 72000),
        (
            "Lead a shift of 25-60 associates to hit safety, quality and productivity goals",
            "Plan labour and equipment for each shift",
            "Coach, train and hold team members accountable",
            "Investigate incidents and drive corrective actions",
            "Run continuous-improvement projects with lean tools",
        ),
        (
            "{years}+ years of supervisory experience in warehousing or logistics",
            "Working knowledge of WMS and labour management systems",
            "Ability to work nights, weekends and peak season overtime",
        ),
        ("Six Sigma Green Belt", "Bachelor's degree in supply chain or business"),
        ("Outbound", "Inbound", "Night Shift"),
        LOCAL_REGIONS,
        seniority=False,
    ),
    # --- finance ---
    Role(
        "finance",
        (
            "Staff Accountant",
            "Accounts Payable Specialist",
            "Accounts Receivable Clerk",
            "Payroll Specialist",
            "General Ledger Accountant",
        ),
        ("annual", 66000),
        (
            "Prepare journal entries and account reconciliations for the monthly close",
            "Process supplier invoices and payment runs",
            "Manage customer billing, cash application and collections",
            "Run payroll accurately and on time for several entities",
            "Support the year-end audit and answer auditor requests",
            "Improve processes and controls in our ERP",
        ),
        (
            "{years}+ years of accounting experience",
            "Degree in accounting or finance, or equivalent experience",
            "Strong Excel skills",
            "Experience with NetSuite, SAP or Sage",
            "Attention to detail",
        ),
        ("Progress towards CPA, ACCA or CIMA", "Multi-entity or multi-currency experience"),
        ("Finance Operations", "Accounting", "Payroll"),
        ALL_REGIONS,
        remote=("Hybrid", "On-site"),
    ),
    Role(
        "finance",
        ("Financial Analyst", "FP&A Analyst", "Treasury Analyst", "Credit Risk Analyst"),
        ("annual", 88000),
        (
            "Build budgets, forecasts and long-range financial models",
            "Analyse variances and explain the drivers to business leaders",
            "Prepare monthly management reporting and board materials",
            "Monitor cash positions and liquidity",
            "Assess credit applications and monitor portfolio risk",
            "Support pricing and investment decisions with scenario analysis",
        ),
        (
            "{years}+ years of experience in FP&A, treasury or credit",
            "Excellent Excel and financial modelling skills",
            "Degree in finance, economics or accounting",
            "Ability to present numbers clearly",
        ),
        ("CFA or ACCA progress", "SQL or Power BI skills", "Banking experience"),
        ("FP&A", "Treasury", "Credit Risk"),
        ALL_REGIONS,
        remote=("Hybrid", "On-site"),
    ),
    Role(
        "finance",
        ("Financial Controller", "Assistant Controller", "Finance Manager"),
        ("annual", 125000),
        (
            "Own the monthly close and the consolidated financial statements",
            "Lead and develop a team of four accountants",
            "Maintain a strong system of internal controls",
            "Coordinate the external audit and tax filings",
            "Partner with the CFO on budgeting, forecasting and cash management",
        ),
        (
            "Qualified CPA, ACA, ACCA or CIMA",
            "{years}+ years of post-qualification experience",
            "Team leadership experience",
            "IFRS or US GAAP expertise",
        ),
        ("Big Four audit background", "ERP implementation experience"),
        ("Group Finance", "Finance"),
        ALL_REGIONS,
        seniority=False,
        remote=("Hybrid", "On-site"),
    ),
    Role(
        "finance",
        ("Compliance Officer", "AML Analyst", "Internal Auditor", "KYC Analyst"),
        ("annual", 82000),
        (
            "Review customer onboarding files and perform enhanced due diligence",
            "Investigate transaction-monitoring alerts and file suspicious activity reports",
            "Test the design and effectiveness of internal controls",
            "Keep policies up to date with regulatory changes",
            "Deliver compliance training to colleagues across the business",
        ),
        (
            "{years}+ years of experience in compliance, AML or audit",
            "Knowledge of AML regulations and sanctions regimes",
            "Analytical mind and excellent writing skills",
        ),
        ("CAMS or ICA certification", "Payments or e-money experience"),
        ("Financial Crime", "Internal Audit", "Regulatory Compliance"),
        ALL_REGIONS,
        remote=("Hybrid", "On-site"),
        companies=("Union Harbour Bank", "Clearwater Payments", "Ashford & Keane Capital"),
    ),
    # --- education ---
    Role(
        "education",
        (
            "Primary School Teacher",
            "Secondary Mathematics Teacher",
            "Science Teacher (Grades 6-8)",
            "English Teacher - High School",
            "Special Education Teacher",
        ),
        ("annual", 56000),
        (
            "Plan and teach engaging lessons aligned with the curriculum",
            "Assess pupils' progress and adapt teaching to their needs",
            "Create a calm, inclusive and well-organised classroom",
            "Communicate regularly with parents and carers",
            "Work with colleagues on curriculum planning and moderation",
            "Write and implement individualised education programmes (IEPs)",
        ),
        (
            "Teaching licence or qualified teacher status (QTS)",
            "Bachelor's degree in education or the subject",
            "Strong classroom management",
            "Clearance through background checks",
        ),
        ("Experience with students with special educational needs", "ESL endorsement"),
        ("Elementary", "Middle School", "High School", "Learning Support"),
        ("us", "us", "uk", "uk", "ie", "ca"),
        seniority=False,
        employment=("Full-time", "Full-time, school year", "Long-term substitute"),
        companies=("Maple Grove Unified School District", "Riverside Academy Trust"),
    ),
    Role(
        "education",
        ("Teaching Assistant", "Early Years Educator", "Preschool Teacher", "Paraprofessional"),
        ("hourly", 18),
        (
            "Support the lead teacher with small-group and one-to-one activities",
            "Help children develop through play, stories and outdoor learning",
            "Observe and record children's progress",
            "Keep children safe and follow safeguarding procedures",
            "Build warm relationships with families",
        ),
        (
            "Childcare or education qualification (or willingness to work towards one)",
            "Experience working with children",
            "Patience, warmth and reliability",
        ),
        ("Paediatric first aid certificate", "Second language"),
        ("Preschool", "Reception", "Learning Support"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time", "Part-time", "Term-time only"),
        companies=("Maple Grove Unified School District", "Riverside Academy Trust", "Little Acorns Early Learning"),
    ),
    Role(
        "education",
        ("ESL Instructor", "Online English Tutor", "Adult Education Instructor", "Corporate Trainer"),
        ("hourly", 26),
        (
            "Teach general and business English to adult learners in small groups",
            "Prepare learners for IELTS and Cambridge exams",
            "Plan lessons using our curriculum and your own materials",
            "Track attendance and learner progress",
            "Deliver engaging live online lessons",
        ),
        (
            "CELTA, TESOL or equivalent certification",
            "Native or near-native English",
            "{years}+ years of teaching experience",
        ),
        ("Experience teaching business English", "Experience with online classroom tools"),
        ("Adult Programmes", "Online School", "Corporate Training"),
        ALL_REGIONS,
        seniority=False,
        employment=("Part-time", "Contract", "Full-time"),
        remote=("Remote", "On-site"),
        companies=("Lingua Bridge Institute",),
    ),
    # --- hospitality ---
    Role(
        "hospitality",
        ("Line Cook", "Prep Cook", "Sous Chef", "Pastry Cook", "Kitchen Porter"),
        ("hourly", 18.5),
        (
            "Prepare and cook dishes to our recipes and plating standards",
            "Set up and break down your station every shift",
            "Follow food safety, allergen and hygiene procedures",
            "Receive deliveries and rotate stock",
            "Keep the kitchen clean and help with dishwashing when needed",
            "Support the head chef with menu development and ordering",
        ),
        (
            "Previous kitchen experience",
            "Food handler certificate (or willingness to obtain)",
            "Ability to work evenings, weekends and holidays",
            "Team player who stays calm during a rush",
        ),
        ("Culinary school training", "Experience in a high-volume or fine-dining kitchen"),
        ("Kitchen", "Banqueting", "Pastry"),
        LOCAL_REGIONS + ("de", "nl"),
        seniority=False,
        employment=("Full-time", "Part-time", "Seasonal"),
        companies=("The Alder Hotel", "Copper Pot Restaurant Group", "Saltmarsh Resort & Spa"),
    ),
    Role(
        "hospitality",
        ("Server", "Bartender", "Barista", "Host/Hostess", "Food Runner"),
        ("hourly", 14),
        (
            "Welcome guests warmly and make them feel at home",
            "Take orders accurately and recommend food and drinks",
            "Prepare drinks to our recipes and standards",
            "Handle payments and close out checks correctly",
            "Keep the floor, bar and service areas clean and stocked",
        ),
        (
            "Friendly, positive attitude",
            "Availability on evenings and weekends",
            "Previous hospitality experience is a plus but not required",
            "Must be 21+ for bartending",
        ),
        ("Latte art skills", "Wine knowledge"),
        ("Restaurant", "Bar", "Café", "Events"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Part-time", "Full-time", "Seasonal"),
    ),
    Role(
        "hospitality",
        ("Front Desk Agent", "Night Auditor", "Guest Services Associate", "Housekeeping Supervisor", "Concierge"),
        ("hourly", 18),
        (
            "Check guests in and out quickly and warmly",
            "Answer phone calls, emails and guest requests",
            "Handle reservations and room changes in our property management system",
            "Balance the day's transactions and run the night audit",
            "Inspect rooms and coordinate the housekeeping team",
            "Resolve guest complaints calmly and follow up",
        ),
        (
            "Experience in a guest-facing role",
            "Comfortable with computers and booking systems",
            "Flexibility to work mornings, evenings, nights and weekends",
            "Clear, friendly communication",
        ),
        ("Opera PMS experience", "A second language"),
        ("Front Office", "Housekeeping", "Guest Services"),
        LOCAL_REGIONS + ("de", "nl", "ch"),
        seniority=False,
        employment=("Full-time", "Part-time"),
        companies=("The Alder Hotel", "Saltmarsh Resort & Spa"),
    ),
    Role(
        "hospitality",
        ("Restaurant General Manager", "Assistant General Manager", "Food & Beverage Manager", "Event Coordinator"),
        ("annual", 64000),
        (
            "Run daily operations and lead a team of 20-50 people",
            "Hire, train, schedule and develop staff",
            "Control labour and food costs and manage the P&L",
            "Plan and coordinate weddings, conferences and private events",
            "Maintain excellent health, safety and guest satisfaction scores",
        ),
        (
            "{years}+ years of hospitality management experience",
            "Strong leadership and organisation",
            "Understanding of P&L and cost control",
            "Ability to work a flexible schedule",
        ),
        ("Hospitality degree", "Experience opening new locations"),
        ("Operations", "Food & Beverage", "Events"),
        LOCAL_REGIONS,
        seniority=False,
        companies=("The Alder Hotel", "Copper Pot Restaurant Group", "Saltmarsh Resort & Spa"),
    ),
    # --- manufacturing ---
    Role(
        "manufacturing",
        ("CNC Machinist", "Production Operator", "Machine Operator - 2nd Shift", "Assembly Technician", "MIG Welder"),
        ("hourly", 24),
        (
            "Set up and run CNC lathes and mills from blueprints and work instructions",
            "Operate production equipment and monitor output for defects",
            "Assemble components and sub-assemblies to specification",
            "Perform in-process inspections with calipers, micrometers and gauges",
            "Weld steel assemblies to AWS standards",
            "Keep the work cell clean and follow 5S and safety rules",
        ),
        (
            "{years}+ years of manufacturing experience",
            "Ability to read blueprints and use measuring tools",
            "Willingness to work overtime and rotating shifts",
            "High school diploma or equivalent",
        ),
        ("Experience with Fanuc or Haas controls", "AWS welding certification"),
        ("Machining", "Assembly", "Fabrication", "Moulding"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time", "Full-time, 2nd shift", "Temporary-to-hire"),
    ),
    Role(
        "manufacturing",
        ("Maintenance Technician", "Quality Inspector", "Industrial Electrician", "Quality Control Technician"),
        ("hourly", 30),
        (
            "Troubleshoot and repair mechanical, electrical, hydraulic and pneumatic systems",
            "Perform preventive maintenance and keep records in our CMMS",
            "Inspect incoming, in-process and finished product against specifications",
            "Document non-conformances and support root-cause investigations",
            "Support line changeovers and new equipment installations",
        ),
        (
            "{years}+ years of industrial maintenance or quality experience",
            "Ability to read electrical schematics or technical drawings",
            "Experience with PLCs or CMM inspection",
            "Own basic hand tools",
        ),
        ("Journeyman electrician licence", "ASQ certification"),
        ("Maintenance", "Quality", "Facilities"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time", "Full-time, night shift"),
    ),
    Role(
        "manufacturing",
        ("Process Engineer", "Manufacturing Engineer", "Quality Engineer", "Continuous Improvement Engineer"),
        ("annual", 92000),
        (
            "Improve yield, cycle time and cost on our production lines",
            "Write work instructions, PFMEAs and control plans",
            "Lead root-cause analysis and corrective actions using 8D",
            "Support new product introductions from prototype to full production",
            "Validate equipment and processes (IQ/OQ/PQ)",
        ),
        (
            "Bachelor's degree in mechanical, industrial or chemical engineering",
            "{years}+ years of engineering experience in manufacturing",
            "Lean and Six Sigma tools",
            "CAD skills (SolidWorks or similar)",
        ),
        ("Experience in a regulated industry (medical, aerospace, automotive)", "Six Sigma Black Belt"),
        ("Process Engineering", "Quality", "New Product Introduction"),
        OFFICE_REGIONS,
    ),
    # --- sales ---
    Role(
        "sales",
        (
            "Account Executive",
            "Sales Development Representative",
            "Business Development Representative",
            "Enterprise Account Executive",
            "Key Account Manager",
        ),
        ("annual", 78000),
        (
            "Prospect into target accounts by phone, email and LinkedIn",
            "Run discovery calls and tailored product demos",
            "Manage a pipeline in Salesforce and forecast accurately",
            "Negotiate and close new business",
            "Grow and retain a portfolio of key accounts",
            "Work with marketing on campaigns and events",
        ),
        (
            "{years}+ years of B2B sales experience",
            "Track record of meeting or beating quota",
            "Excellent communication and negotiation skills",
            "Experience with a CRM",
        ),
        ("SaaS sales experience", "MEDDIC or Challenger training", "Driving licence for client visits"),
        ("Mid-Market", "Enterprise", "New Business", "Key Accounts"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote", "On-site"),
        employment=("Full-time",),
    ),
    Role(
        "sales",
        ("Customer Success Manager", "Account Manager", "Renewals Manager"),
        ("annual", 76000),
        (
            "Onboard new customers and make sure they see value quickly",
            "Run regular business reviews and track account health",
            "Identify expansion opportunities and hand them to sales",
            "Advocate for customers' needs with product and support",
            "Own renewals for a book of business",
        ),
        (
            "{years}+ years in customer success or account management",
            "Strong relationship-building skills",
            "Comfort with data and CRM tools",
        ),
        ("SaaS experience", "Gainsight or ChurnZero experience"),
        ("Customer Success", "Account Management"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    Role(
        "retail",
        ("Retail Sales Associate", "Cashier", "Stock Associate", "Visual Merchandiser", "Customer Service Associate"),
        ("hourly", 16.5),
        (
            "Greet customers, help them find products and answer questions",
            "Operate the till and handle cash and card payments accurately",
            "Receive deliveries, replenish shelves and keep the store tidy",
            "Build attractive displays in line with brand guidelines",
            "Process returns and exchanges",
            "Help the team hit sales and customer-satisfaction targets",
        ),
        (
            "Friendly, helpful attitude",
            "Availability on weekends and holidays",
            "Retail experience is a plus",
            "Basic maths skills",
        ),
        ("Product knowledge in the category", "A second language"),
        ("Shop Floor", "Front End", "Stockroom", "Visual Merchandising"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Part-time", "Full-time", "Seasonal"),
    ),
    Role(
        "retail",
        ("Store Manager", "Assistant Store Manager", "Department Supervisor"),
        ("annual", 58000),
        (
            "Lead, schedule and coach a store team of 15-60 people",
            "Open and close the store and make sure every shift runs smoothly",
            "Drive sales, margin and customer-satisfaction results",
            "Manage stock levels, shrink and store standards",
            "Recruit, train and develop future leaders",
        ),
        (
            "{years}+ years of retail supervisory or management experience",
            "Comfort with sales reports and labour budgets",
            "Availability on weekends and holidays",
        ),
        ("Multi-site experience", "Experience opening new stores"),
        ("Store Leadership", "Operations"),
        LOCAL_REGIONS,
        seniority=False,
    ),
    # --- legal ---
    Role(
        "legal",
        ("Paralegal", "Litigation Paralegal", "Legal Assistant", "Legal Secretary", "Conveyancing Assistant"),
        ("annual", 60000),
        (
            "Draft correspondence, pleadings and routine legal documents",
            "Manage court deadlines, filings and the diary of several lawyers",
            "Organise discovery and prepare trial bundles",
            "Conduct legal research and summarise findings",
            "Maintain accurate matter files in our document management system",
            "Handle time recording and billing",
        ),
        (
            "{years}+ years of experience in a law firm or legal department",
            "Paralegal certificate or degree",
            "Excellent organisation and attention to detail",
            "Strong Word and Outlook skills",
        ),
        ("Experience with iManage or NetDocuments", "E-discovery tools such as Relativity"),
        ("Litigation", "Corporate", "Real Estate", "Employment"),
        OFFICE_REGIONS,
        seniority=False,
        remote=("On-site", "Hybrid"),
    ),
    Role(
        "legal",
        (
            "Associate Attorney - Corporate",
            "In-House Counsel",
            "Commercial Contracts Lawyer",
            "Employment Lawyer",
            "Privacy Counsel",
        ),
        ("annual", 155000),
        (
            "Draft and negotiate commercial agreements, NDAs and partnership contracts",
            "Advise on corporate transactions, governance and financing",
            "Advise the business on employment, data protection and regulatory questions",
            "Manage outside counsel and legal spend",
            "Build templates and playbooks that let the business move faster",
        ),
        (
            "Admitted to practise in the jurisdiction",
            "{years}+ years' post-qualification experience",
            "Excellent drafting and negotiation skills",
            "Pragmatic, commercial judgement",
        ),
        ("Technology or fintech sector experience", "CIPP/E certification"),
        ("Corporate", "Commercial", "Privacy", "Employment"),
        OFFICE_REGIONS,
        remote=("Hybrid", "On-site"),
    ),
    Role(
        "legal",
        ("Contracts Manager", "Contract Administrator", "Legal Operations Specialist"),
        ("annual", 86000),
        (
            "Manage the contract lifecycle from request to signature and renewal",
            "Review and redline standard agreements against our playbook",
            "Maintain the contract repository and report on key dates",
            "Improve legal operations tooling and processes",
        ),
        (
            "{years}+ years of contract management experience",
            "Familiarity with contract law basics",
            "Experience with CLM tools",
        ),
        ("IACCM/WorldCC certification",),
        ("Legal Operations", "Commercial"),
        OFFICE_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    # --- customer support ---
    Role(
        "support",
        (
            "Customer Service Representative",
            "Technical Support Specialist",
            "Call Center Agent",
            "Customer Support Team Lead",
            "Bilingual Customer Service Representative (Spanish)",
        ),
        ("hourly", 19),
        (
            "Answer customer calls, chats and emails and resolve issues at first contact",
            "Troubleshoot internet, account and billing problems",
            "Document every interaction clearly in our CRM",
            "Escalate complex cases to the right team and follow up",
            "Meet quality and customer-satisfaction targets",
            "Coach team members and handle escalated calls (team lead)",
        ),
        (
            "High school diploma or equivalent",
            "Excellent listening and communication skills",
            "Comfort with computers and multiple applications",
            "Reliable home internet for remote work",
        ),
        ("Call-centre experience", "Fluent Spanish"),
        ("Customer Care", "Technical Support", "Billing"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time", "Part-time"),
        remote=("On-site", "Remote"),
    ),
    # --- construction ---
    Role(
        "construction",
        ("HVAC Technician", "Plumber", "HVAC Service Technician", "Apprentice Plumber"),
        ("hourly", 30),
        (
            "Install, maintain and repair heating, cooling and plumbing systems",
            "Diagnose faults and explain repair options to customers",
            "Carry out seasonal maintenance visits for service-plan customers",
            "Keep the company van, tools and job sites organised and safe",
            "Complete paperwork and job notes on a tablet",
        ),
        (
            "Journeyman licence or apprenticeship enrolment",
            "{years}+ years of trade experience",
            "Valid driver's licence",
            "EPA 608 certification or willingness to obtain",
        ),
        ("NATE certification", "Commercial refrigeration experience"),
        ("Service", "Installations", "Maintenance Plans"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time",),
        companies=("Comfort Zone Mechanical",),
    ),
    Role(
        "construction",
        ("Electrician", "Commercial Electrician", "Carpenter", "Apprentice Electrician"),
        ("hourly", 31),
        (
            "Install, maintain and repair systems in homes and commercial buildings",
            "Diagnose faults and explain repair options to customers",
            "Read plans and follow code requirements",
            "Keep the company van, tools and job sites organised and safe",
            "Complete paperwork and job notes on a tablet",
        ),
        (
            "Journeyman licence or apprenticeship enrolment",
            "{years}+ years of trade experience",
            "Valid driver's licence",
            "OSHA 10 or willingness to obtain",
        ),
        ("Fire alarm or low-voltage experience", "Commercial project experience"),
        ("Service", "New Construction", "Commercial"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time",),
        companies=("Brightwire Electrical", "Granite Peak Builders"),
    ),
    Role(
        "construction",
        ("Construction Project Manager", "Site Manager", "Site Engineer", "Estimator", "Superintendent"),
        ("annual", 98000),
        (
            "Plan, schedule and manage construction projects from preconstruction to handover",
            "Coordinate subcontractors, suppliers and design teams",
            "Manage budgets, change orders and cost reports",
            "Lead site safety and quality inspections",
            "Prepare estimates and bid packages from drawings",
        ),
        (
            "{years}+ years in construction management",
            "Degree in construction management or engineering",
            "Knowledge of Procore or similar software",
            "OSHA 30 or SMSTS certification",
        ),
        ("PMP certification", "Healthcare or education projects"),
        ("Projects", "Preconstruction", "Field Operations"),
        OFFICE_REGIONS,
        companies=("Granite Peak Builders",),
    ),
    # --- marketing ---
    Role(
        "marketing",
        (
            "Marketing Manager",
            "Content Marketing Specialist",
            "SEO Specialist",
            "Social Media Coordinator",
            "Product Marketing Manager",
            "Copywriter",
        ),
        ("annual", 78000),
        (
            "Plan and run integrated campaigns across email, paid and organic channels",
            "Write clear, on-brand copy for web pages, emails and social posts",
            "Grow organic traffic through technical and content SEO",
            "Build launch plans, messaging and sales enablement for new products",
            "Report on campaign performance and optimise budgets",
            "Manage freelancers and agencies",
        ),
        (
            "{years}+ years of marketing experience",
            "Excellent writing in English",
            "Experience with HubSpot, Google Analytics or similar tools",
            "Data-driven and organised",
        ),
        ("B2B SaaS experience", "Basic HTML and design skills"),
        ("Brand", "Growth Marketing", "Product Marketing", "Content"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote", "On-site"),
    ),
    Role(
        "marketing",
        ("Graphic Designer", "UX Designer", "Product Designer"),
        ("annual", 90000),
        (
            "Design digital and print assets that stay true to our brand",
            "Research user needs and turn them into flows, wireframes and prototypes",
            "Run usability tests and iterate on designs",
            "Contribute to and maintain our design system",
            "Present your work and rationale to stakeholders",
        ),
        (
            "{years}+ years of design experience and a strong portfolio",
            "Expert in Figma or Adobe Creative Suite",
            "Understanding of accessibility and typography",
        ),
        ("Motion design skills", "Front-end coding basics"),
        ("Brand Design", "Product Design"),
        ALL_REGIONS,
        remote=("Hybrid", "Remote"),
    ),
    # --- HR & admin ---
    Role(
        "hr_admin",
        ("HR Generalist", "Talent Acquisition Specialist", "HR Business Partner", "Recruiter"),
        ("annual", 72000),
        (
            "Run full-cycle recruitment from intake to offer",
            "Advise managers on employee relations, performance and policy",
            "Manage onboarding and offboarding",
            "Maintain accurate employee records in the HRIS",
            "Support compensation reviews and engagement surveys",
        ),
        (
            "{years}+ years of HR or recruiting experience",
            "Knowledge of employment law",
            "Discretion with confidential information",
            "Experience with Workday, BambooHR or Personio",
        ),
        ("SHRM or CIPD certification", "Experience in high-growth companies"),
        ("People", "Talent Acquisition", "HR Operations"),
        ALL_REGIONS,
        remote=("Hybrid", "On-site"),
    ),
    Role(
        "hr_admin",
        ("Office Manager", "Executive Assistant", "Administrative Assistant", "Receptionist"),
        ("hourly", 22),
        (
            "Manage complex calendars, travel and expenses for executives",
            "Greet visitors and keep the office running smoothly",
            "Order supplies and coordinate with facilities vendors",
            "Prepare documents, presentations and meeting notes",
            "Plan team events and offsites",
        ),
        (
            "{years}+ years of administrative experience",
            "Excellent Microsoft 365 or Google Workspace skills",
            "Exceptional organisation and discretion",
        ),
        ("Experience supporting C-level executives",),
        ("Office", "Executive Office"),
        OFFICE_REGIONS,
        seniority=False,
        employment=("Full-time", "Part-time"),
    ),
    # --- social care ---
    Role(
        "social_care",
        ("Support Worker", "Care Assistant", "Home Health Aide", "Residential Care Worker"),
        ("hourly", 17),
        (
            "Support people with personal care, medication and daily living tasks",
            "Help the people we support take part in their communities",
            "Follow care plans and record notes accurately",
            "Spot and report safeguarding concerns",
            "Work as part of a small, close-knit team",
        ),
        (
            "Kindness, patience and reliability",
            "Right to work and background check",
            "Driving licence for some roles",
            "No experience necessary - full training given",
        ),
        ("Care certificate or NVQ/QCF Level 2-3", "Home health aide certification"),
        ("Supported Living", "Residential", "Home Care"),
        LOCAL_REGIONS,
        seniority=False,
        employment=("Full-time", "Part-time", "Bank/relief"),
        companies=("Hollybank Care", "Evergreen Senior Living"),
    ),
    Role(
        "social_care",
        ("Social Worker", "Case Manager", "Family Support Worker"),
        ("annual", 58000),
        (
            "Manage a caseload of children and families or adults",
            "Carry out assessments and build support plans with families",
            "Work with schools, health and housing services",
            "Write clear reports and attend case conferences",
            "Advocate for the people you support",
        ),
        (
            "Degree in social work and registration with the relevant body",
            "{years}+ years of post-qualifying experience",
            "Driving licence",
        ),
        ("Child protection experience", "Motivational interviewing training"),
        ("Children's Services", "Adult Services", "Early Help"),
        ("us", "uk", "uk", "ie", "ca"),
        seniority=False,
        companies=("Brookside Family Services", "Hollybank Care"),
    ),
)

SENIORITY = (  # (prefix, pay factor, years)
    ("Junior ", 0.75, 1),
    ("", 1.0, 3),
    ("", 1.0, 3),
    ("Senior ", 1.28, 5),
    ("Senior ", 1.28, 6),
    ("Lead ", 1.42, 8),
    ("Staff ", 1.55, 9),
)

INTROS = (
    "{company} is looking for {a} {title} to join our {team} team in {city}.",
    "We are hiring {a} {title} for our {team} team.",
    "As {a} {title} at {company}, you will join the {team} team and make a visible difference from your first week.",
    "Our {team} team is growing and we need {a} {title} who cares about doing things well.",
    "{company} is expanding its {team} team in {city} and is looking for an experienced {title}.",
)
CLOSINGS = (
    (
        "{company} is an equal opportunity employer. We welcome applicants of every background and do not "
        "discriminate on the basis of race, religion, colour, national origin, sex, sexual orientation, gender "
        "identity, age, disability or veteran status."
    ),
    "Interested? Apply with your CV. A cover letter is optional; we read every application.",
    "We review applications on a rolling basis and aim to reply to everyone within ten working days.",
    "If you need an adjustment at any stage of the hiring process, tell us and we will make it happen.",
    (
        "Our process: a 30-minute call with the hiring manager, a practical exercise, and a final conversation "
        "with the team. No trick questions."
    ),
    "Please note we are unable to sponsor visas for this role.",
)


# ---------------------------------------------------------------------------------------------------------
# Descriptions are built as blocks, then rendered as plain text, bullet lists, prose, HTML or emoji-decorated.
# ---------------------------------------------------------------------------------------------------------

Block = tuple[str, object]  # ("h", str) | ("p", str) | ("ul", list[str])


@dataclass
class Draft:
    """A posting before it is rendered and numbered."""

    title: str | None
    blocks: list[Block]
    company: str
    location: str
    employment_type: str
    salary_range: str | None
    remote_policy: str
    source: str
    region: str = "us"
    extras: dict = field(default_factory=dict)
    style: str = "plain"
    description: str | None = None  # set to bypass rendering


def _fill(text: str, **values: object) -> str:
    """Replace the generator's own `{name}` tokens (data strings only; never applied to edge-case text)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def _article(title: str) -> str:
    return "an" if title[:1].upper() in "AEIOU" else "a"


def _money(region: Region, amount: float, hourly: bool) -> str:
    if hourly:
        return f"{region.currency}{amount:,.2f}"
    return f"{region.currency}{int(round(amount, -3)):,}"


def _salary(rng: random.Random, region: Region, role: Role, factor: float) -> str | None:
    if rng.random() < 0.18:
        return rng.choice((None, "Competitive", "Depending on experience"))
    kind, mid = role.pay
    if kind == "hourly":
        base = mid * region.hourly_factor * factor * rng.uniform(0.92, 1.08)
        low = round(base * 4) / 4
        high = round(base * rng.uniform(1.1, 1.25) * 4) / 4
        text = f"{_money(region, low, True)} - {_money(region, high, True)} per hour"
        if role.industry == "hospitality" and "Server" in role.titles[0] and region.key == "us":
            text += " plus tips"
        return text
    base = mid * region.annual_factor * factor * rng.uniform(0.9, 1.05)
    high = base * rng.uniform(1.15, 1.3)
    text = f"{_money(region, base, False)} - {_money(region, high, False)} {region.year_word}"
    if role.industry == "sales" and "Account Executive" in role.titles[0]:
        text += " base, plus commission"
    return text


def _pick(rng: random.Random, items: tuple[str, ...] | list[str], low: int, high: int) -> list[str]:
    count = min(len(items), rng.randint(low, high))
    chosen = rng.sample(range(len(items)), count)
    return [items[i] for i in sorted(chosen)]


def make_draft(rng: random.Random, role: Role, *, region_key: str | None = None, title: str | None = None) -> Draft:
    """An ordinary posting for `role`, with randomised company, place, seniority, pay and sections."""
    industry = INDUSTRIES[role.industry]
    employers = [c for c in industry.companies if not role.companies or c[0] in role.companies]
    company, about = rng.choice(employers)
    region = REGIONS[region_key or rng.choice(role.regions)]
    city = rng.choice(region.cities)
    base_title = title or rng.choice(role.titles)
    prefix, factor, years = ("", 1.0, 3)
    if role.seniority:
        prefix, factor, years = rng.choice(SENIORITY)
        if prefix == "Staff " and (role.industry not in ("software", "data") or base_title.startswith("Staff")):
            prefix = "Senior "
    job_title = f"{prefix}{base_title}"
    team = rng.choice(role.teams)
    remote = rng.choice(role.remote)
    if region.key == "remote":
        remote = "Remote"
    years_text = str(max(1, years + rng.randint(-1, 1)))
    intros = [
        i
        for i in INTROS
        if not ("{city}" in i and region.key == "remote") and not ("experienced" in i and prefix == "Junior ")
    ]
    town = city.split(",")[0]
    intro = _fill(rng.choice(intros), company=company, title=job_title, a=_article(job_title), team=team, city=town)
    if remote == "Hybrid":
        intro += f" This is a hybrid role with {rng.choice(('two', 'three'))} days a week in our {town} office."
    elif remote == "Remote":
        intro += " The role is fully remote."
    duties = _pick(rng, role.duties, 4, 7)
    reqs = [_fill(r, years=years_text) for r in _pick(rng, role.reqs, 3, 6)]
    nice = _pick(rng, role.nice, 1, 3)
    benefits = _pick(rng, region.benefits, 3, 5) + _pick(rng, industry.benefits, 1, 3)
    blocks: list[Block] = [("h", "About us"), ("p", about), ("h", "The role"), ("p", intro)]
    blocks += [("h", "What you will do"), ("ul", duties), ("h", "What you bring"), ("ul", reqs)]
    if nice and rng.random() < 0.7:
        blocks += [("h", "Nice to have"), ("ul", nice)]
    blocks += [("h", "What we offer"), ("ul", benefits)]
    for closing in _pick(rng, CLOSINGS, 1, 2):
        blocks.append(("p", _fill(closing, company=company)))
    return Draft(
        title=job_title,
        blocks=blocks,
        company=company,
        location=city,
        employment_type=rng.choice(role.employment),
        salary_range=_salary(rng, region, role, factor),
        remote_policy=remote,
        source=rng.choice(region.sources),
        region=region.key,
        style=rng.choice(("plain", "plain", "plain", "caps", "colon", "prose", "markdown")),
    )


HEADINGS_COLON = {
    "About us": "Company Overview:",
    "The role": "Job Summary:",
    "What you will do": "Key Responsibilities:",
    "What you bring": "Qualifications:",
    "Nice to have": "Preferred Qualifications:",
    "What we offer": "Benefits:",
}


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    # keep acronyms and product names ("SQL", "Epic") as they are
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def render(blocks: list[Block], style: str, rng: random.Random) -> str:
    """Render description blocks as text in one of several house styles."""
    if style == "html":
        return render_html(blocks, rng)
    if style == "prose":
        return _render_prose(blocks)
    bullet = {"plain": "- ", "caps": "• ", "colon": "* ", "markdown": "- ", "emoji": "✅ "}[style]
    parts: list[str] = []
    for kind, value in blocks:
        if kind == "h":
            heading = str(value)
            if style == "caps":
                heading = heading.upper()
            elif style == "colon":
                heading = HEADINGS_COLON.get(heading, heading + ":")
            elif style == "markdown":
                heading = "## " + heading
            elif style == "emoji":
                heading = EMOJI_HEADINGS.get(heading, "✨") + " " + heading
            parts.append(heading)
        elif kind == "p":
            parts.append(str(value))
        else:
            parts.append("\n".join(bullet + item for item in value))  # type: ignore[union-attr]
    # headings sit directly above their content; paragraphs are separated by a blank line
    out: list[str] = []
    for i, part in enumerate(parts):
        if i and blocks[i - 1][0] != "h":
            out.append("")
        out.append(part)
    return "\n".join(out)


def _render_prose(blocks: list[Block]) -> str:
    paragraphs: list[str] = []
    heading = ""
    for kind, value in blocks:
        if kind == "h":
            heading = str(value)
        elif kind == "p":
            paragraphs.append(str(value))
        else:
            # benefits keep their capitals: they are list entries after a colon, not part of a sentence
            lead, lower = {
                "What you will do": ("In this role you will ", True),
                "What you bring": ("We are looking for someone with: ", True),
                "Nice to have": ("It would be great if you also have: ", True),
                "What we offer": ("In return we offer: ", False),
            }.get(heading, ("", False))
            items = [_lower_first(i) if lower else i for i in value]  # type: ignore[union-attr]
            joined = "; ".join(items[:-1]) + ("; and " if len(items) > 1 else "") + items[-1]
            paragraphs.append(_sentence(lead + joined))
    return "\n\n".join(paragraphs)


def _html_escape(text: str, rng: random.Random) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if rng.random() < 0.5:
        text = text.replace("'", "&#39;")
    else:
        text = text.replace("'", "&rsquo;")
    return text.replace(" - ", " &ndash; ")


def render_html(blocks: list[Block], rng: random.Random) -> str:
    """HTML as career sites and ATS exports produce it: divs, inline styles, entities, stray breaks."""
    flavour = rng.choice(("clean", "word", "ats"))
    out: list[str] = []
    if flavour == "ats":
        out.append('<div class="job-description" data-ats="export"><!-- generated by ATS -->')
    elif flavour == "word":
        out.append("<style>p.MsoNormal{margin:0;font-family:Calibri}</style><div>")
    else:
        out.append("<div>")
    for kind, value in blocks:
        if kind == "h":
            text = _html_escape(HTML_HEADINGS.get(str(value), str(value)), rng)
            out.append(f"<h3>{text}</h3>" if flavour != "word" else f'<p class="MsoNormal"><b>{text}</b></p>')
        elif kind == "p":
            text = _html_escape(str(value), rng)
            if flavour == "word":
                out.append(f'<p class="MsoNormal"><span style="font-size:11pt">{text}</span>&nbsp;</p>')
            else:
                out.append(f"<p>{text}</p>")
        else:
            items = "".join(f"<li>{_html_escape(i, rng)}</li>" for i in value)  # type: ignore[union-attr]
            out.append(f"<ul>{items}</ul>")
    if flavour == "ats":
        out.append("<p><br/></p><p>&nbsp;</p>")
    out.append("</div>")
    return ("\n" if flavour == "clean" else "").join(out)


HTML_HEADINGS = {"What we offer": "Pay & benefits", "What you bring": "Skills & experience"}

EMOJI_HEADINGS = {
    "About us": "🏢",
    "The role": "🚀",
    "What you will do": "🛠️",
    "What you bring": "🎯",
    "Nice to have": "💡",
    "What we offer": "🎁",
}


# ---------------------------------------------------------------------------------------------------------
# Hand-written postings: non-English ones, scam-like ones, and edge cases.
# ---------------------------------------------------------------------------------------------------------

GERMAN = (
    {
        "title": "Pflegefachkraft (m/w/d) Intensivstation",
        "company": "Klinikum Elbtal",
        "about": "Das Klinikum Elbtal ist ein Haus der Schwerpunktversorgung mit 640 Betten und über 2.000 "
        "Mitarbeitenden. Wir stehen für moderne Medizin und eine menschliche Pflege.",
        "tasks": (
            "Sie übernehmen die ganzheitliche Pflege und Überwachung von Intensivpatientinnen und -patienten",
            "Sie assistieren bei ärztlichen Maßnahmen und Notfällen",
            "Sie dokumentieren die Pflege sorgfältig in unserem digitalen System",
            "Sie beraten und begleiten Angehörige in schwierigen Situationen",
            "Sie arbeiten eng mit dem ärztlichen Dienst und der Physiotherapie zusammen",
        ),
        "profile": (
            "Eine abgeschlossene Ausbildung als Pflegefachfrau/-mann oder Gesundheits- und Krankenpfleger/in",
            "Idealerweise die Fachweiterbildung Intensiv- und Anästhesiepflege",
            "Freude an der Arbeit im Team und Verantwortungsbewusstsein",
            "Bereitschaft zum Schichtdienst",
        ),
        "offer": (
            "Vergütung nach TVöD-K inklusive Zulagen",
            "30 Tage Urlaub",
            "Betriebliche Altersvorsorge",
            "Strukturierte Einarbeitung mit Mentorenprogramm",
            "Zuschuss zum Deutschlandticket",
        ),
        "salary": "3.900 - 4.700 € brutto/Monat",
        "employment": "Vollzeit oder Teilzeit",
    },
    {
        "title": "Softwareentwickler Java (m/w/d)",
        "company": "Nordlicht Software GmbH",
        "about": "Die Nordlicht Software GmbH entwickelt seit 2009 Lösungen für die Energiewirtschaft. Über 150 "
        "Stadtwerke und Netzbetreiber setzen auf unsere Plattform.",
        "tasks": (
            "Sie entwickeln neue Funktionen für unsere Abrechnungsplattform mit Java und Spring Boot",
            "Sie gestalten die Architektur unserer Microservices aktiv mit",
            "Sie schreiben automatisierte Tests und führen Code-Reviews durch",
            "Sie arbeiten in einem agilen Team nach Scrum",
            "Sie unterstützen bei der Migration in die Cloud",
        ),
        "profile": (
            "Ein abgeschlossenes Studium der Informatik oder eine vergleichbare Ausbildung",
            "Mindestens drei Jahre Berufserfahrung mit Java",
            "Kenntnisse in SQL und relationalen Datenbanken",
            "Sehr gute Deutschkenntnisse und gute Englischkenntnisse",
        ),
        "offer": (
            "Ein unbefristeter Arbeitsvertrag",
            "Bis zu drei Tage mobiles Arbeiten pro Woche",
            "Flexible Arbeitszeiten ohne Kernzeit",
            "Weiterbildungsbudget von 2.000 € pro Jahr",
            "Jobrad und Firmenfitness",
        ),
        "salary": "60.000 - 75.000 € brutto/Jahr",
        "employment": "Vollzeit",
    },
    {
        "title": "Fachkraft für Lagerlogistik (m/w/d)",
        "company": "Rheinland Logistik Service GmbH",
        "about": "Die Rheinland Logistik Service GmbH ist ein mittelständischer Logistikdienstleister mit sechs "
        "Standorten. Für unser Lager suchen wir Verstärkung.",
        "tasks": (
            "Sie nehmen Waren an, prüfen sie und lagern sie fachgerecht ein",
            "Sie kommissionieren und verpacken Aufträge für den Versand",
            "Sie bedienen Flurförderzeuge wie Stapler und Schubmaststapler",
            "Sie führen Inventuren durch und pflegen die Bestände im Lagerverwaltungssystem",
        ),
        "profile": (
            "Eine abgeschlossene Ausbildung als Fachkraft für Lagerlogistik oder Fachlagerist",
            "Einen gültigen Staplerschein",
            "Bereitschaft zur Arbeit im Zweischichtsystem",
            "Zuverlässigkeit und eine sorgfältige Arbeitsweise",
        ),
        "offer": (
            "Einen sicheren Arbeitsplatz in einem wachsenden Unternehmen",
            "Schichtzulagen",
            "Urlaubs- und Weihnachtsgeld",
            "Kostenlose Arbeitskleidung",
        ),
        "salary": "17,50 € pro Stunde",
        "employment": "Vollzeit",
    },
    {
        "title": "Buchhalter (m/w/d) Kreditorenbuchhaltung",
        "company": "Hansa Baustoffe AG",
        "about": "Die Hansa Baustoffe AG ist einer der führenden Baustoffhändler in Norddeutschland mit 48 "
        "Niederlassungen und rund 1.600 Mitarbeitenden.",
        "tasks": (
            "Sie prüfen und kontieren Eingangsrechnungen",
            "Sie bereiten Zahlungsläufe vor und klären Differenzen mit Lieferanten",
            "Sie wirken bei den Monats- und Jahresabschlüssen mit",
            "Sie pflegen die Kreditorenstammdaten in SAP",
        ),
        "profile": (
            "Eine kaufmännische Ausbildung, gerne mit Weiterbildung zum Finanzbuchhalter",
            "Mehrjährige Erfahrung in der Kreditorenbuchhaltung",
            "Gute Kenntnisse in SAP FI und Excel",
            "Eine strukturierte und selbstständige Arbeitsweise",
        ),
        "offer": (
            "Eine Vergütung nach Tarif mit 13. Monatsgehalt",
            "Zwei Tage Homeoffice pro Woche",
            "Betriebliche Altersvorsorge",
            "Mitarbeiterrabatte",
        ),
        "salary": "48.000 - 56.000 € brutto/Jahr",
        "employment": "Vollzeit",
    },
    {
        "title": "Erzieher (m/w/d) für unsere Kita",
        "company": "Kita Sonnenblume gGmbH",
        "about": "Die Kita Sonnenblume gGmbH betreibt acht Kindertagesstätten, in denen Kinder von einem bis "
        "sechs Jahren spielerisch lernen und wachsen.",
        "tasks": (
            "Sie begleiten und fördern die Kinder in ihrer Entwicklung",
            "Sie planen pädagogische Angebote und setzen sie um",
            "Sie beobachten und dokumentieren die Entwicklung der Kinder",
            "Sie führen Elterngespräche und arbeiten vertrauensvoll mit den Familien zusammen",
        ),
        "profile": (
            "Eine abgeschlossene Ausbildung als staatlich anerkannte/r Erzieher/in",
            "Freude an der Arbeit mit Kindern",
            "Teamfähigkeit und Offenheit für neue Ideen",
        ),
        "offer": (
            "Vergütung in Anlehnung an den TVöD SuE",
            "Fünf Tage Bildungsurlaub",
            "Ein engagiertes und herzliches Team",
            "Regelmäßige Supervision",
        ),
        "salary": "3.500 - 4.200 € brutto/Monat",
        "employment": "Teilzeit (30 Stunden)",
    },
    {
        "title": "Industriemechaniker (m/w/d) Instandhaltung",
        "company": "Schwarzwald Präzisionsteile GmbH",
        "about": "Die Schwarzwald Präzisionsteile GmbH fertigt Drehteile für die Automobil- und Medizintechnik. "
        "Als Familienunternehmen setzen wir auf Qualität und langfristige Zusammenarbeit.",
        "tasks": (
            "Sie warten und reparieren unsere Produktionsanlagen",
            "Sie führen Fehlerdiagnosen an mechanischen, hydraulischen und pneumatischen Baugruppen durch",
            "Sie unterstützen bei der Installation neuer Maschinen",
            "Sie dokumentieren alle Wartungsarbeiten",
        ),
        "profile": (
            "Eine abgeschlossene Ausbildung als Industriemechaniker oder vergleichbar",
            "Erfahrung in der Instandhaltung",
            "Bereitschaft zur Rufbereitschaft",
        ),
        "offer": (
            "Tarifliche Bezahlung nach IG Metall",
            "35-Stunden-Woche",
            "Moderne Werkstatt",
            "Kantine mit Essenszuschuss",
        ),
        "salary": None,
        "employment": "Vollzeit",
    },
)

FRENCH = (
    {
        "title": "Développeur Full Stack (H/F)",
        "company": "Azur Numérique",
        "about": "Azur Numérique est une entreprise de services numériques basée à Lyon. Nous concevons des "
        "applications web pour des clients dans la santé, la mobilité et le secteur public.",
        "tasks": (
            "Vous développez de nouvelles fonctionnalités en TypeScript, React et Node.js",
            "Vous participez aux choix d'architecture et aux revues de code",
            "Vous rédigez des tests automatisés et veillez à la qualité du code",
            "Vous travaillez en étroite collaboration avec nos designers et nos chefs de projet",
        ),
        "profile": (
            "Vous avez au moins trois ans d'expérience en développement web",
            "Vous maîtrisez JavaScript et TypeScript",
            "Vous êtes à l'aise avec les bases de données SQL",
            "Vous êtes curieux, rigoureux et aimez le travail en équipe",
        ),
        "offer": (
            "Un CDI avec deux jours de télétravail par semaine",
            "Tickets restaurant et mutuelle prise en charge à 70 %",
            "RTT et horaires flexibles",
            "Un budget formation annuel",
        ),
        "salary": "45 000 - 55 000 € brut annuel",
        "employment": "CDI",
        "city": "Lyon, France",
    },
    {
        "title": "Infirmier / Infirmière diplômé(e) d'État (H/F)",
        "company": "Clinique du Parc",
        "about": "La Clinique du Parc est un établissement de santé privé de 220 lits, spécialisé en chirurgie "
        "orthopédique et en rééducation.",
        "tasks": (
            "Vous assurez les soins infirmiers des patients hospitalisés",
            "Vous préparez et administrez les traitements selon les prescriptions médicales",
            "Vous assurez la surveillance clinique et la traçabilité des soins dans le dossier patient",
            "Vous accompagnez les patients et leurs proches tout au long du séjour",
        ),
        "profile": (
            "Vous êtes titulaire du diplôme d'État d'infirmier",
            "Une première expérience en chirurgie est appréciée",
            "Vous avez le sens de l'écoute et du travail en équipe",
        ),
        "offer": (
            "Un poste en CDI à temps plein",
            "Une prime d'installation",
            "Un comité d'entreprise",
            "Des possibilités de formation continue",
        ),
        "salary": "2 300 - 2 800 € brut mensuel",
        "employment": "CDI",
        "city": "Bordeaux, France",
    },
    {
        "title": "Comptable général (H/F)",
        "company": "Groupe Vallon Distribution",
        "about": "Le Groupe Vallon Distribution est un distributeur de matériel électrique présent dans toute la "
        "France avec 35 agences et 900 collaborateurs.",
        "tasks": (
            "Vous tenez la comptabilité générale de plusieurs filiales",
            "Vous réalisez les rapprochements bancaires et le lettrage des comptes",
            "Vous préparez les déclarations de TVA",
            "Vous participez aux clôtures mensuelles et annuelles",
        ),
        "profile": (
            "Vous êtes diplômé d'un BTS ou d'un DCG en comptabilité",
            "Vous avez une expérience d'au moins deux ans sur un poste similaire",
            "Vous maîtrisez Excel et un logiciel comptable comme Sage ou Cegid",
        ),
        "offer": (
            "Un CDI au sein d'un groupe stable",
            "Un treizième mois",
            "Participation et intéressement",
            "Une journée de télétravail par semaine",
        ),
        "salary": "36 000 - 42 000 € brut annuel",
        "employment": "CDI",
        "city": "Paris, France",
    },
    {
        "title": "Chef de rang (H/F)",
        "company": "Brasserie Les Deux Quais",
        "about": "La Brasserie Les Deux Quais accueille jusqu'à 300 couverts par jour dans un cadre historique au "
        "bord de la Seine. Nous recherchons un chef de rang pour compléter notre équipe de salle.",
        "tasks": (
            "Vous accueillez les clients et prenez les commandes",
            "Vous conseillez les clients sur les plats et les vins",
            "Vous assurez le service dans le respect des standards de la maison",
            "Vous encadrez les commis de salle",
        ),
        "profile": (
            "Vous avez une expérience réussie d'au moins deux ans en restauration",
            "Vous parlez anglais couramment",
            "Vous êtes souriant, dynamique et organisé",
        ),
        "offer": (
            "Un CDI à 39 heures",
            "Deux jours de repos consécutifs",
            "Les repas sur place",
            "Une part des pourboires",
        ),
        "salary": "2 100 € brut mensuel + pourboires",
        "employment": "CDI",
        "city": "Paris, France",
    },
    {
        "title": "Commercial terrain B2B (H/F)",
        "company": "Hexagone Équipements",
        "about": "Hexagone Équipements vend et entretient des équipements de cuisine professionnelle pour les "
        "restaurants, les hôpitaux et les collectivités.",
        "tasks": (
            "Vous développez un portefeuille de clients sur votre secteur",
            "Vous prospectez de nouveaux clients et présentez nos solutions",
            "Vous négociez les contrats et assurez le suivi des ventes",
            "Vous travaillez en lien avec nos techniciens et notre service client",
        ),
        "profile": (
            "Vous avez une première expérience réussie dans la vente B2B",
            "Vous êtes titulaire du permis B",
            "Vous êtes autonome et avez le goût du challenge",
        ),
        "offer": (
            "Un fixe attractif plus des commissions non plafonnées",
            "Un véhicule de fonction",
            "Un téléphone et un ordinateur portables",
            "Une formation complète à nos produits",
        ),
        "salary": "32 000 € brut annuel fixe + variable",
        "employment": "CDI",
        "city": "Nantes, France",
    },
)

SPANISH = (
    {
        "title": "Camarero/a de sala",
        "company": "Grupo Mar de Fondo",
        "about": "Grupo Mar de Fondo gestiona cuatro restaurantes de cocina mediterránea en Valencia y "
        "Alicante. Buscamos personas con vocación de servicio para la temporada de verano.",
        "tasks": (
            "Atender a los clientes en sala y terraza",
            "Tomar comandas y servir platos y bebidas",
            "Preparar y recoger las mesas",
            "Cobrar y cuadrar la caja al final del turno",
        ),
        "profile": (
            "Experiencia previa como camarero/a de al menos un año",
            "Nivel de inglés conversacional",
            "Disponibilidad para trabajar fines de semana y festivos",
        ),
        "offer": (
            "Contrato de temporada con posibilidad de continuidad",
            "Comida de personal incluida",
            "Buen ambiente de trabajo",
            "Propinas repartidas entre todo el equipo",
        ),
        "salary": "1.450 € brutos/mes",
        "employment": "Temporal",
        "city": "Valencia, Spain",
    },
    {
        "title": "Ingeniero/a de datos",
        "company": "Sierra Analytics",
        "about": "Sierra Analytics es una empresa tecnológica que ayuda a las cadenas de supermercados a optimizar "
        "su surtido y sus precios con datos. Somos un equipo de 80 personas en Madrid y Barcelona.",
        "tasks": (
            "Diseñar y mantener pipelines de datos en la nube",
            "Modelar los datos de nuestros clientes con dbt y SQL",
            "Garantizar la calidad y la seguridad de los datos",
            "Colaborar con los equipos de ciencia de datos y de producto",
        ),
        "profile": (
            "Al menos tres años de experiencia como ingeniero/a de datos",
            "Dominio de SQL y Python",
            "Experiencia con BigQuery, Snowflake o Redshift",
            "Nivel alto de inglés",
        ),
        "offer": (
            "Contrato indefinido",
            "Modelo híbrido con dos días en la oficina",
            "Seguro médico privado",
            "Presupuesto anual para formación",
        ),
        "salary": "42.000 - 52.000 € brutos/año",
        "employment": "Jornada completa",
        "city": "Madrid, Spain",
    },
    {
        "title": "Enfermero/a para planta de hospitalización",
        "company": "Hospital San Rafael",
        "about": "El Hospital San Rafael es un centro privado con más de 50 años de historia y 300 camas, "
        "comprometido con una atención cercana y de calidad.",
        "tasks": (
            "Prestar cuidados de enfermería a los pacientes de la planta",
            "Administrar la medicación y realizar las técnicas de enfermería",
            "Registrar la actividad en la historia clínica electrónica",
            "Informar y acompañar a los pacientes y sus familias",
        ),
        "profile": (
            "Grado en Enfermería y colegiación vigente",
            "Se valorará experiencia en hospitalización médico-quirúrgica",
            "Capacidad de trabajo en equipo y empatía",
        ),
        "offer": (
            "Contrato indefinido a jornada completa",
            "Turnos rotativos con planificación anual",
            "Formación continuada",
            "Descuentos en servicios médicos",
        ),
        "salary": None,
        "employment": "Jornada completa",
        "city": "Barcelona, Spain",
    },
    {
        "title": "Repartidor/a con carné B",
        "company": "Envíos Rápidos del Sur",
        "about": "Envíos Rápidos del Sur es una empresa de paquetería con sede en Sevilla que reparte más de "
        "20.000 paquetes al día en Andalucía.",
        "tasks": (
            "Realizar el reparto de paquetes en la ruta asignada",
            "Cargar y descargar la furgoneta",
            "Registrar las entregas con la aplicación móvil",
            "Atender a los clientes con amabilidad",
        ),
        "profile": (
            "Carné de conducir B con al menos dos años de antigüedad",
            "Conocimiento de la zona de Sevilla",
            "Persona responsable y puntual",
        ),
        "offer": (
            "Contrato de seis meses con posibilidad de indefinido",
            "Furgoneta de empresa",
            "Horario de lunes a viernes",
        ),
        "salary": "1.350 - 1.500 € brutos/mes",
        "employment": "Temporal",
        "city": "Sevilla, Spain",
    },
    {
        "title": "Profesor/a de inglés",
        "company": "Academia Horizonte",
        "about": "Academia Horizonte es una academia de idiomas con más de 20 años de experiencia en Zaragoza. "
        "Preparamos a niños, adolescentes y adultos para los exámenes de Cambridge.",
        "tasks": (
            "Impartir clases de inglés a grupos reducidos",
            "Preparar a los alumnos para los exámenes oficiales de Cambridge",
            "Planificar las clases y evaluar el progreso de los alumnos",
            "Mantener el contacto con las familias",
        ),
        "profile": (
            "Nivel nativo o C2 de inglés",
            "Titulación CELTA o similar",
            "Experiencia enseñando a niños y adolescentes",
        ),
        "offer": (
            "Contrato para el curso escolar",
            "Horario de tarde",
            "Formación inicial y continua",
            "Un equipo docente joven y motivado",
        ),
        "salary": "18 € por hora",
        "employment": "Media jornada",
        "city": "Zaragoza, Spain",
    },
)

LANG_HEADINGS = {
    "de": (
        "Über uns",
        "Ihre Aufgaben",
        "Ihr Profil",
        "Wir bieten",
        "Wir freuen uns auf Ihre Bewerbung über unser Karriereportal!",
    ),
    "fr": (
        "Qui sommes-nous ?",
        "Vos missions",
        "Votre profil",
        "Nous vous offrons",
        "Envoyez-nous votre CV et votre lettre de motivation, nous avons hâte de vous rencontrer !",
    ),
    "es": (
        "Quiénes somos",
        "Tus funciones",
        "Qué buscamos",
        "Qué ofrecemos",
        "Si te interesa, envíanos tu currículum a través de nuestra web. ¡Te esperamos!",
    ),
}
LANG_CITIES = {
    "de": (
        "Berlin, Germany",
        "Hamburg, Germany",
        "Munich, Germany",
        "Leipzig, Germany",
        "Freiburg im Breisgau, Germany",
        "Dresden, Germany",
    )
}
LANG_SOURCES = {
    "de": ("stepstone", "arbeitsagentur", "indeed"),
    "fr": ("welcome_to_the_jungle", "indeed", "apec"),
    "es": ("infojobs", "indeed", "linkedin"),
}
LANG_REMOTE = {"de": "Vor Ort", "fr": "Sur site", "es": "Presencial"}


def language_draft(rng: random.Random, lang: str, spec: dict) -> Draft:
    about_h, tasks_h, profile_h, offer_h, closing = LANG_HEADINGS[lang]
    blocks: list[Block] = [
        ("h", about_h),
        ("p", spec["about"]),
        ("h", tasks_h),
        ("ul", list(spec["tasks"])),
        ("h", profile_h),
        ("ul", list(spec["profile"])),
        ("h", offer_h),
        ("ul", list(spec["offer"])),
        ("p", closing),
    ]
    city = spec.get("city") or rng.choice(LANG_CITIES[lang])
    return Draft(
        title=spec["title"],
        blocks=blocks,
        company=spec["company"],
        location=city,
        employment_type=spec["employment"],
        salary_range=spec["salary"],
        remote_policy=LANG_REMOTE[lang],
        source=rng.choice(LANG_SOURCES[lang]),
        region=lang,
        style=rng.choice(("plain", "caps", "markdown")),
    )


SCAMS = (
    (
        "Work From Home Data Entry - $45/hr - No Experience Needed!!!",
        (
            "EARN UP TO $5,000 PER WEEK FROM THE COMFORT OF YOUR HOME!!! No experience, no interview, start today. "
            "We need reliable people to type simple data into online forms. To get started send your full name, date "
            "of birth, phone number and bank account details to hr.department.jobs@gmail-careers.example so payroll can "
            "set up your direct deposit. You will receive a check to buy your home office equipment from our approved "
            "vendor. Limited spots available, reply TODAY!!!"
        ),
    ),
    (
        "Package Reshipping Coordinator (Remote)",
        (
            "International logistics company seeks home-based coordinators. Receive packages at your home address, "
            "inspect them, remove the original labels and reship them to our overseas partners using prepaid labels we "
            "email you. Paid $40 per package plus a $2,500 monthly bonus. No experience or background check required. "
            "Contact our manager on WhatsApp only."
        ),
    ),
    (
        "Personal Assistant to CEO - Flexible Hours",
        (
            "Our CEO travels constantly and needs a personal assistant to run errands. Duties include receiving payments "
            "on behalf of the company, depositing checks into your personal account and sending the balance by gift "
            "cards or wire transfer. Weekly pay of $850 for about 10 hours. Please reply with your full name, address "
            "and a copy of your ID."
        ),
    ),
    (
        "Mystery Shopper - Immediate Start",
        (
            "Get paid to shop! Evaluate stores and money transfer services in your area. We will mail you a cashier's "
            "check for $2,950. Deposit it, keep $400 as your fee, and use the rest to test a money transfer service by "
            "sending it to the address we provide. Evaluation forms are easy and take 15 minutes. Act fast - positions "
            "fill quickly!"
        ),
    ),
)

AGENCY_VAGUE = (
    (
        "Sales Executive",
        (
            "Our client, a leading company in its sector, is looking for a motivated sales professional to join its "
            "growing team. Competitive salary and benefits. Send your CV to apply. Only shortlisted candidates will be "
            "contacted."
        ),
    ),
    (
        "Brand Ambassador - Be Your Own Boss",
        (
            "Are you ambitious and ready to change your life? Join our team of independent brand ambassadors and earn "
            "unlimited income selling premium wellness products. Small starter kit investment required. Flexible hours, "
            "work from anywhere, weekly training calls. DM us to learn more about this amazing opportunity."
        ),
    ),
    (
        "Various Positions - Multiple Locations",
        (
            "We are recruiting for various positions across multiple locations. Experience preferred but not "
            "essential. Please register your details on our website and one of our consultants will be in touch."
        ),
    ),
)

BRACE_POSTINGS = (
    # ATS merge fields that were never filled in, JSON in text, and prompt-template syntax in an AI job:
    # (title, company, location, employment type, salary, remote policy, source, description)
    (
        "Customer Service Advisor",
        "Helio Broadband",
        "Leeds, UK",
        "Full-time",
        "£12.60 per hour",
        "On-site",
        "reed",
        (
            "Join us as our next {posting.job_title}! Hi {{template}},\n\nThanks for your interest in Helio Broadband. "
            "We are looking for friendly Customer Service Advisors to help our customers with billing, moves and "
            "technical questions by phone and chat.\n\nWhat you will do\n- Answer calls and chats and resolve issues "
            "at first contact\n- Document every interaction in our CRM\n- Escalate complex faults to our technical "
            "team\n\nWhat you bring\n- Excellent communication skills\n- Comfort with computers\n\nPay: "
            "£12.60 per hour, plus a monthly performance bonus.\nLocation: {{location}} - Leeds contact centre"
        ),
    ),
    (
        "Prompt Engineer, LLM Workflows",
        "Quayside Labs",
        "Remote (EU time zones)",
        "Full-time",
        None,
        "Remote",
        "lever",
        (
            "Quayside Labs builds document automation for legal teams. Our pipelines chain several language-model "
            "steps: an extraction step writes a summary, a grader checks it, and a template like "
            '"Grade this summary: {gemma3_extract}" passes the result along. Placeholders such as '
            "{posting.job_title} and {gemma3_extract} are filled at run time, and we also maintain Jinja templates "
            "with {{template}} syntax.\n\nResponsibilities\n- Design, test and version prompt chains\n- Build "
            "evaluation sets and measure quality regressions\n- Work with engineers to ship LLM features safely\n\n"
            "Requirements\n- 2+ years of Python\n- Hands-on experience with LLM APIs or local models (Ollama, vLLM)\n"
            "- A rigorous, experimental mindset\n\nWe offer a remote-first team, a learning budget and stock options."
        ),
    ),
    (
        "Backend Engineer, Compensation Platform",
        "Clearwater Payments",
        "Berlin, Germany",
        "Full-time",
        "€70,000 - €85,000 per year",
        "Hybrid",
        "personio",
        (
            'Our compensation platform stores pay bands as compact JSON; for example {"salary": 5} means band 5 of '
            'our eight-step ladder, and {"salary": 5, "currency": "EUR"} adds the currency. You will own the '
            "services that compute, version and audit these bands.\n\nWhat you'll do\n- Build APIs in Python and "
            "PostgreSQL\n- Design schemas for versioned compensation data\n- Write thorough tests and documentation\n\n"
            "What you'll bring\n- 4+ years of backend experience\n- Strong SQL\n- Care for data correctness\n\n"
            "Benefits: 30 days of holiday, pension, hybrid working in Berlin."
        ),
    ),
    (
        "Warehouse Team Member",
        "Parcelway Logistics",
        "Columbus, OH",
        "Full-time",
        "$19.50 per hour",
        "On-site",
        "indeed",
        (
            "Parcelway Logistics is hiring Warehouse Team Members for our {{site_name}} fulfilment centre. Apply "
            "today to become a {posting.job_title} on our friendly day shift!\n\nYou will pick, pack and ship "
            "customer orders, load trucks and keep the warehouse safe and tidy. No experience needed - we train you "
            "and pay for your forklift certification.\n\nPay $19.50/hour, weekly pay, overtime available. "
            "Benefits from day one. {{template}}"
        ),
    ),
    (
        "Data Analyst (JSON APIs)",
        "Lumen Analytics",
        "Manchester, UK",
        "Full-time",
        "£38,000 - £45,000 per annum",
        "Hybrid",
        "linkedin",
        (
            "Lumen Analytics needs a Data Analyst who is comfortable with nested JSON from public APIs. A minimal "
            'record looks like {"salary": 5}, a typical one like {"salary": 5, "region": {"code": "NW"}}, '
            "and you will flatten thousands of them into tidy tables for our dashboards.\n\nYou will write SQL and "
            "Python, build Power BI reports and explain "
            "your findings to clients. Our report templates use placeholders like {client_name} and {{template}}, "
            "which you will help maintain.\n\nRequirements: 2+ years of analytics experience, advanced SQL, some "
            "Python. Salary £38,000 - £45,000 per annum, hybrid in Manchester."
        ),
    ),
    (
        "Technical Writer, Developer Docs",
        "Brightloop Software",
        "Remote (US/Canada)",
        "Full-time",
        "$95,000 - $115,000 per year",
        "Remote",
        "greenhouse",
        (
            "Brightloop Software is looking for a Technical Writer to own our developer documentation. Our docs "
            'explain webhook payloads such as {"event": "booking.created", "salary": 5} (a test fixture we keep '
            "for historical reasons) and template variables written as {gemma3_extract} or {posting.job_title} in "
            "our AI features guide.\n\nYou will write guides, API references and tutorials, work with engineers to "
            "review changes, and keep our style guide current.\n\nYou bring 3+ years of technical writing, comfort "
            "reading code, and excellent English. Remote within the US or Canada, $95,000 - $115,000 per year."
        ),
    ),
)

EMOJI_CITIES = {  # region -> places spelled with their diacritics
    "de": ("Düsseldorf, Germany", "München, Germany", "Köln, Germany"),
    "ch": ("Zürich, Switzerland", "Genève, Switzerland"),
    "ca": ("Montréal, QC", "Québec City, QC"),
    "remote": ("Remote – Kraków or Malmö hub", "Remote (Europe) · São Paulo office optional"),
}

LONG_SECTIONS = {
    "mission": (
        (
            "Our mission is simple to state and hard to do well: to make the systems people rely on every day "
            "work better for everyone who touches them. We measure ourselves not by how many features we ship but "
            "by whether the people who use our work are measurably better off. Over the past decade that has meant "
            "investing in reliability before growth, in training before hiring, and in long-term relationships with "
            "customers, suppliers and the communities where we operate."
        ),
        (
            "We are proud of our history, but we are more interested in our future. In the next three years we plan "
            "to double the number of customers we serve, open two new regional hubs, and modernise the core systems "
            "our colleagues use every day. This role is part of that plan, and the person who takes it will shape "
            "how we work for years to come."
        ),
    ),
    "history": (
        (
            "We started in a single rented unit with four people, one customer and a second-hand van. Our founders "
            "had spent years watching their industry accept poor service as normal, and they wanted to prove that a "
            "company could be both careful and fast. Word spread, the customer list grew, and within three years we "
            "had outgrown two buildings."
        ),
        (
            "Since then we have grown steadily rather than spectacularly. We have never had a round of layoffs, we "
            "have been profitable in every year but one, and more than a third of our leadership team started in "
            "entry-level roles. We think that says more about us than any award, although we are proud of those too."
        ),
        (
            "Today we employ people across several countries, and the same principles still guide us: do the work "
            "properly, tell customers the truth, and look after the people who do the work."
        ),
    ),
    "growth": (
        (
            "Every employee has a written development plan that they own and review with their manager twice a year. "
            "The plan covers the skills you want to build, the experiences that would help you build them, and the "
            "support you need from us."
        ),
        (
            "Our career framework describes what is expected at each level in plain language, with examples, so that "
            "promotions are predictable and fair. Promotion decisions are made by a panel, not by a single manager, "
            "and we publish the outcomes of our annual pay and promotion review broken down by gender and ethnicity."
        ),
        (
            "Internal moves are encouraged. About one in five of our open roles is filled by someone who already works "
            "here, and you can apply for an internal move after twelve months in your current role without needing "
            "your manager's permission."
        ),
    ),
    "values": (
        (
            "Customers first, always: we start every discussion with the people we serve and end it by asking "
            "whether we have actually helped them."
        ),
        (
            "Safety and quality are not negotiable: we stop the line, raise our hand and fix problems at the source, "
            "and nobody is ever blamed for doing so."
        ),
        (
            "Own the outcome: we take responsibility for results, not just for tasks, and we follow through until "
            "the job is really done."
        ),
        (
            "Learn in public: we share what we know, write things down, ask for help early and treat mistakes as "
            "opportunities to improve our systems."
        ),
        (
            "Be kind and direct: we give honest feedback with care, assume good intent and disagree openly before "
            "committing fully to a decision."
        ),
    ),
    "day": (
        (
            "A typical day starts with a short stand-up where the team reviews yesterday's results, today's "
            "priorities and any risks. Mornings are usually reserved for focused work, and we protect that time by "
            "keeping meetings to the afternoon wherever we can."
        ),
        (
            "In the afternoon you might review work with colleagues, meet with partner teams to plan upcoming "
            "changes, or spend time with the people who use what we build to understand their problems first-hand. "
            "Once a month the wider department gets together to share lessons, celebrate wins and agree on what to "
            "improve next."
        ),
        (
            "We plan in six-week cycles followed by a two-week cool-down for maintenance, learning and "
            "experiments. You will have a say in what the team takes on and how, and you will never be asked to "
            "commit to a deadline you had no part in setting."
        ),
    ),
    "benefits_detail": (
        (
            "Health: comprehensive medical, dental and vision coverage for you and your dependants, with the company "
            "paying 90% of premiums for employees and 75% for families. Coverage starts on your first day, not after "
            "a waiting period."
        ),
        (
            "Time off: 25 days of paid vacation, 10 public holidays, your birthday off, and a paid volunteering day. "
            "After five years with us you receive a four-week paid sabbatical."
        ),
        (
            "Family: 20 weeks of fully paid parental leave for all parents regardless of gender, a phased return to "
            "work, and a monthly childcare stipend for children under six."
        ),
        (
            "Money: a retirement plan with a 6% employer match that vests immediately, an annual performance bonus, "
            "and an employee share purchase plan with a 15% discount."
        ),
        (
            "Growth: a personal learning budget of 2,000 per year, paid study leave for professional qualifications, "
            "internal mentoring, and clear career frameworks for both individual contributor and management tracks."
        ),
        (
            "Wellbeing: free access to a mental-health app and up to twelve therapy sessions a year, a fitness "
            "allowance, ergonomic equipment for home and office, and an employee assistance programme available "
            "around the clock."
        ),
        (
            "Flexibility: flexible start and finish times, compressed hours on request, and up to four weeks a year "
            "of working from anywhere."
        ),
    ),
    "process": (
        (
            "Step 1 - Application review: a member of our recruiting team reads every application in full. We do not "
            "use automated screening to reject candidates, and we aim to respond within seven working days."
        ),
        (
            "Step 2 - Introductory call: a 30-minute conversation with the recruiter about your experience, what you "
            "are looking for and practical details such as notice period and salary expectations."
        ),
        (
            "Step 3 - Hiring manager interview: a 45-minute conversation about the role, the team and how you approach "
            "your work. You will have plenty of time to ask questions."
        ),
        (
            "Step 4 - Practical exercise: a short, realistic exercise based on the work you would actually do. We pay "
            "candidates for any exercise that takes longer than two hours, and we share the brief in advance."
        ),
        (
            "Step 5 - Team conversations: two shorter conversations with future colleagues, followed by a decision "
            "within three working days and feedback whether or not we make an offer."
        ),
    ),
    "eeo": (
        (
            "We are an equal opportunity employer and value diversity at our company. We do not discriminate on the "
            "basis of race, religion, colour, national origin, ancestry, sex, sexual orientation, gender identity or "
            "expression, age, marital status, pregnancy, veteran status, genetic information, disability or any other "
            "legally protected characteristic. We consider qualified applicants with arrest and conviction records in "
            "accordance with applicable fair chance laws."
        ),
        (
            "We are committed to providing reasonable accommodations for qualified individuals with disabilities and "
            "disabled veterans in our job application procedures. If you need assistance or an accommodation due to "
            "a disability, you may contact our recruiting team at any stage of the process, and your request will be "
            "handled confidentially and will not affect how your application is assessed."
        ),
        (
            "Pay transparency: the salary range shown reflects the minimum and maximum base pay we reasonably expect "
            "to offer for this role at the time of posting. Final pay depends on job-related factors such as skills, "
            "experience, qualifications and location. The range does not include bonuses, equity or benefits, which "
            "are described separately. We review pay regularly to make sure it stays fair and competitive."
        ),
    ),
    "faq": (
        (
            "Do I need to meet every requirement? No. If you meet most of them and are excited about the role, please "
            "apply. Research shows that many strong candidates rule themselves out too early, and we would rather "
            "have the conversation."
        ),
        (
            "Can this role be part-time or a job share? We are open to discussing reduced hours or a job share for "
            "almost every role. Tell us in your application what you are looking for and we will be honest about what "
            "is possible for this team."
        ),
        (
            "Will I need to relocate? Not necessarily. Depending on the role we support hybrid and remote working, and "
            "where relocation is needed we offer a relocation package that covers moving costs, temporary housing and "
            "help with registration and paperwork."
        ),
        (
            "How long does the process take? Most processes take three to four weeks from application to offer. If you "
            "have a competing deadline, tell your recruiter and we will do our best to move faster."
        ),
        (
            "What equipment will I get? Everything you need to do your job well, from day one. We will also cover a "
            "one-off home-office allowance and replace equipment when it no longer serves you."
        ),
        (
            "What does onboarding look like? Your first two weeks follow a structured plan with a named buddy, "
            "introductions to the people you will work with most, and time to learn our systems before you take on "
            "your first projects. Your manager will check in with you at 30, 60 and 90 days."
        ),
    ),
    "sustainability": (
        (
            "We have committed to net-zero emissions across our operations by 2035 and publish our progress every year. "
            "Our sites run on renewable electricity, our vehicle fleet is moving to electric, and we work with our "
            "suppliers to reduce the footprint of everything we buy."
        ),
        (
            "Each employee receives two paid volunteering days a year, and we match charitable donations up to a set "
            "amount. Employee-led groups choose the local causes we support in each region."
        ),
    ),
    "privacy": (
        (
            "Applicant privacy notice. When you apply, we collect the information you give us, such as your name, "
            "contact details, CV, cover letter, work history, education, right-to-work status and any other "
            "information you choose to share. We may also collect information from references you provide, from "
            "background-check providers where permitted by law, and from publicly available professional profiles."
        ),
        (
            "We use this information only to assess your application, communicate with you about the role, comply "
            "with legal obligations and improve our recruiting process. We do not sell applicant data and we do not "
            "use it for marketing. Access is limited to the recruiters, interviewers and administrators who need it "
            "for these purposes."
        ),
        (
            "We keep applicant records for up to two years after the end of the recruitment process so that we can "
            "respond to legal claims and, with your consent, contact you about future roles. After that period, your "
            "information is deleted or anonymised. Successful candidates' data becomes part of their employee record."
        ),
        (
            "Depending on where you live, you may have the right to access, correct or delete your personal data, to "
            "object to or restrict certain processing, to data portability, and to withdraw your consent at any time. "
            "You also have the right to lodge a complaint with your local data protection authority. To exercise any "
            "of these rights, contact our privacy team; we will respond within one month."
        ),
        (
            "Some of our service providers, such as our applicant tracking system and video interview provider, may "
            "process your data outside your country of residence. Where this happens, we use appropriate safeguards "
            "such as standard contractual clauses approved by the relevant authorities."
        ),
    ),
}


def long_draft(rng: random.Random, role: Role) -> Draft:
    """A posting well over 12,000 characters: role content plus the full corporate boilerplate."""
    draft = make_draft(rng, role)
    blocks = draft.blocks[:4]  # about + the role
    blocks += [("h", "Our story")] + [("p", p) for p in LONG_SECTIONS["history"]]
    blocks += [("h", "Our mission")] + [("p", p) for p in LONG_SECTIONS["mission"]]
    blocks += [("h", "Our values"), ("ul", list(LONG_SECTIONS["values"]))]
    blocks += [
        ("h", "What you will do"),
        (
            "ul",
            [
                _sentence(d) + " You will be supported by experienced "
                "colleagues and clear documentation, and you will have room to improve how this is done."
                for d in role.duties
            ],
        ),
    ]
    blocks += [("h", "What you bring"), ("ul", [_sentence(_fill(r, years="5")) for r in role.reqs])]
    blocks += [("h", "Nice to have"), ("ul", list(role.nice))]
    blocks += [("h", "A day in the life")] + [("p", p) for p in LONG_SECTIONS["day"]]
    blocks += [("h", "Growing with us")] + [("p", p) for p in LONG_SECTIONS["growth"]]
    blocks += [("h", "Benefits in detail"), ("ul", list(LONG_SECTIONS["benefits_detail"]))]
    blocks += [("h", "Our hiring process"), ("ul", list(LONG_SECTIONS["process"]))]
    blocks += [("h", "Frequently asked questions"), ("ul", list(LONG_SECTIONS["faq"]))]
    blocks += [("h", "Sustainability and community")] + [("p", p) for p in LONG_SECTIONS["sustainability"]]
    blocks += [("h", "Equal opportunity and pay transparency")] + [("p", p) for p in LONG_SECTIONS["eeo"]]
    blocks += [("h", "Privacy")] + [("p", p) for p in LONG_SECTIONS["privacy"]]
    draft.blocks = blocks
    draft.style = rng.choice(("plain", "caps", "colon"))
    assert len(render(blocks, draft.style, random.Random(0))) > 12000
    return draft


# ---------------------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------------------


def _roles_of(industry: str) -> list[Role]:
    return [r for r in ROLES if r.industry == industry]


def _edge_drafts(rng: random.Random) -> list[Draft]:
    drafts: list[Draft] = []

    def ordinary(industry: str | None = None) -> Draft:
        role = rng.choice(_roles_of(industry) if industry else list(ROLES))
        return make_draft(rng, role)

    # empty and whitespace-only descriptions: scrapes whose detail page failed to load
    for _ in range(4):
        d = ordinary()
        d.description = ""
        drafts.append(d)
    for blank in ("   ", "\n\n\t\n", "\u00a0 \r\n \u00a0", " \t "):
        d = ordinary()
        d.description = blank
        drafts.append(d)
    # descriptions too short to summarise
    for tiny in ("TBD", "See attached PDF.", "Apply via link below.", "<p>&nbsp;</p><br/>"):
        d = ordinary()
        d.description = tiny
        drafts.append(d)
    # very long postings
    for industry in ("software", "healthcare", "finance", "manufacturing"):
        drafts.append(long_draft(rng, rng.choice(_roles_of(industry))))
    # non-English postings
    for lang, specs in (("de", GERMAN), ("fr", FRENCH), ("es", SPANISH)):
        for spec in specs:
            drafts.append(language_draft(rng, lang, spec))
    # HTML exports
    for _ in range(12):
        d = ordinary()
        d.style = "html"
        drafts.append(d)
    # braces that look like placeholders
    for title, company, location, employment, salary, remote, source, text in BRACE_POSTINGS:
        drafts.append(
            Draft(
                title=title,
                blocks=[],
                company=company,
                location=location,
                employment_type=employment,
                salary_range=salary,
                remote_policy=remote,
                source=source,
                description=text,
            )
        )
    # emoji and other unicode
    emoji_roles = [r for r in ROLES if r.industry in ("software", "data", "marketing", "sales")]
    for i in range(8):
        region_key = ("de", "ch", "ca", "remote")[i % 4]
        d = make_draft(rng, rng.choice(emoji_roles), region_key=region_key)
        d.style = "emoji"
        d.location = rng.choice(EMOJI_CITIES[region_key])
        d.blocks.insert(
            0,
            (
                "p",
                rng.choice(
                    (
                        "🚀 We're hiring! 🎉",
                        "👩‍💻👨‍💻 Join our crew — we'd love to meet you!",
                        "🌱 Grow with us ✨",
                        "☕️ Great coffee, great people, great work 💪",
                    )
                ),
            ),
        )
        d.blocks.append(
            (
                "p",
                rng.choice(
                    (
                        "Questions? 💬 Reach out to our talent team — we answer every message within 48h ⏱️",
                        "Bewerbungen auf Deutsch oder Englisch willkommen 🇩🇪🇬🇧 · Candidatures bienvenues 🇫🇷",
                        "Salary in € or CHF · ½ day off on your birthday 🎂 · “No jerks” policy™",
                    )
                ),
            )
        )
        drafts.append(d)
    # missing titles: two without the key, two with null
    for missing in ("absent", "absent", "null", "null"):
        d = ordinary()
        d.title = None
        d.extras["_title_key"] = missing
        drafts.append(d)
    # scam-like and vague agency postings (low IHL scores)
    for title, text in SCAMS:
        drafts.append(
            Draft(
                title=title,
                blocks=[],
                company=rng.choice(("Global Opportunities LLC", "Prime Staffing Solutions", "Confidential")),
                location=rng.choice(("Remote", "Anywhere", "Remote (US)")),
                employment_type=rng.choice(("Part-time", "Flexible", "Contract")),
                salary_range=rng.choice(("$45 - $60 per hour", "$5,000 per week", None)),
                remote_policy="Remote",
                source=rng.choice(("craigslist", "indeed", "facebook_jobs")),
                description=text,
            )
        )
    for title, text in AGENCY_VAGUE:
        drafts.append(
            Draft(
                title=title,
                blocks=[],
                company=rng.choice(("Apex Talent Partners", "Confidential", "Summit Recruitment")),
                location=rng.choice(("London, UK", "Nationwide", "Various")),
                employment_type="Full-time",
                salary_range=rng.choice(("Competitive", None)),
                remote_policy="On-site",
                source=rng.choice(("indeed", "reed", "jobserve")),
                description=text,
            )
        )
    # a test posting and filled roles that were switched off
    d = ordinary("software")
    d.title = "TEST POSTING - DO NOT APPLY"
    d.description = "This is a test posting created to check the careers page integration. Please ignore it."
    d.extras["enabled"] = False
    drafts.append(d)
    for _ in range(3):
        d = ordinary()
        d.extras["enabled"] = False
        drafts.append(d)
    return drafts


def _posted_at(rng: random.Random) -> str:
    moment = EPOCH + timedelta(days=rng.randint(0, 75), minutes=rng.randint(0, 12 * 60))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_record(rng: random.Random, draft: Draft) -> dict:
    description = draft.description
    if description is None:
        description = render(draft.blocks, draft.style, rng)
        if draft.source == "workday":
            description = description.replace("\n", "\r\n")  # Workday exports arrive with CRLF line ends
    record: dict = {"posting_id": None}
    title_key = draft.extras.get("_title_key")
    if title_key != "absent":
        record["job_title"] = draft.title
    record["job_description"] = description
    record.update(
        company=draft.company,
        location=draft.location,
        employment_type=draft.employment_type,
        salary_range=draft.salary_range,
        remote_policy=draft.remote_policy,
        posted_at=_posted_at(rng),
        source=draft.source,
    )
    if "enabled" in draft.extras:
        record["enabled"] = draft.extras["enabled"]
    return record


def _assign_ids(rng: random.Random, records: list[dict], prefix: str = "h") -> None:
    """Half the postings get text ids (h001, h002, ...), the others an outside system's numeric ids."""
    numeric = rng.sample(range(10000, 99999), len(records))
    counter = 0
    for record, number in zip(records, numeric):
        if rng.random() < 0.5:
            counter += 1
            record["posting_id"] = f"{prefix}{counter:03d}"
        else:
            record["posting_id"] = str(number)


def build_postings(seed: int = SEED, total: int = TOTAL_POSTINGS) -> list[dict]:
    """All sample postings, deterministic for a given seed."""
    rng = random.Random(seed)
    drafts = _edge_drafts(rng)
    reposts = 3
    # every role family at least twice, then a random mix up to the total
    ordinary: list[Draft] = []
    for role in ROLES:
        ordinary.append(make_draft(rng, role))
    for role in ROLES:
        ordinary.append(make_draft(rng, role))
    while len(drafts) + len(ordinary) < total - reposts:
        ordinary.append(make_draft(rng, rng.choice(ROLES)))
    drafts += ordinary
    records = [_to_record(rng, d) for d in drafts]
    # reposts: the same job advertised again a few weeks later, under a new id
    for original in rng.sample(records[-len(ordinary) :], reposts):
        again = dict(original)
        again["posted_at"] = _posted_at(rng)
        again["source"] = "company_careers_page"
        records.append(again)
    rng.shuffle(records)
    _assign_ids(rng, records)
    return records


def build_csv_rows(seed: int = SEED) -> list[dict]:
    """Ten plain postings for CSV loading demos: the core columns plus `company`."""
    rng = random.Random(seed + 1)
    picks = [r for r in ROLES if r.industry in ("software", "healthcare", "logistics", "hospitality", "finance")]
    rows: list[dict] = []
    for i in range(CSV_ROWS - 1):
        draft = make_draft(rng, picks[i % len(picks)], region_key="us")
        draft.style = rng.choice(("plain", "prose"))
        rows.append(
            {
                "job_title": draft.title,
                "job_description": render(draft.blocks, draft.style, rng),
                "company": draft.company,
            }
        )
    german = language_draft(rng, "de", GERMAN[2])
    rows.append(
        {"job_title": german.title, "job_description": render(german.blocks, "plain", rng), "company": german.company}
    )
    # a quoted phrase, so the CSV needs proper quoting
    rows[0]["job_description"] += '\n\nOur customers call us "the team that picks up the phone".'
    for i, row in enumerate(rows):
        row["posting_id"] = f"c{i + 1:03d}" if i % 3 else str(70000 + 37 * i)
    return [{col: row[col] for col in CSV_COLUMNS} for row in rows]


def to_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_outputs(out_dir: Path = HERE, seed: int = SEED) -> tuple[Path, Path]:
    """Write postings.jsonl and postings_sample.csv into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl_path, csv_path = out_dir / JSONL_NAME, out_dir / CSV_NAME
    jsonl_path.write_bytes(to_jsonl(build_postings(seed)).encode("utf-8"))
    csv_path.write_bytes(to_csv(build_csv_rows(seed)).encode("utf-8"))
    return jsonl_path, csv_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate Turing's sample job postings (deterministic).")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the files (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    jsonl_path, csv_path = write_outputs(args.out_dir, args.seed)
    count = sum(1 for _ in jsonl_path.open(encoding="utf-8"))
    print(f"wrote {count} postings to {jsonl_path} and {CSV_ROWS} rows to {csv_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
