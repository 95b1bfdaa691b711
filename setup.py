from setuptools import find_packages, setup

# The Dagster family moves together: dagster-postgres 0.29.N ships with dagster 1.13.N.
DAGSTER = "1.13.27"
DAGSTER_LIBS = "0.29.27"

setup(
    name="turing_dagster",
    version="0.1.0",
    description="Turing: LLM workflows over job postings, in waves, on Dagster.",
    python_requires=">=3.11,<3.14",
    packages=find_packages(exclude=["turing_dagster_tests*", "reliability*"]),
    include_package_data=True,
    package_data={"turing_dagster": ["sample_data/*.jsonl", "sample_data/*.csv", "sample_data/*.json"]},
    install_requires=[
        f"dagster=={DAGSTER}",
        f"dagster-webserver=={DAGSTER}",
        f"dagster-postgres=={DAGSTER_LIBS}",
        "psycopg2-binary>=2.9",
        "SQLAlchemy>=2.0,<2.2",
        "ollama>=0.6,<0.7",
        "pydantic>=2.7,<3",
        "click>=8.1",
        "rich>=13",
        "PyYAML>=6",
        "tenacity>=8.2",
        "jsonschema>=4.20",
        "jsonpath-ng>=1.6",
        # `turing report` and the run's GPU timeline PNG (drawn with the Agg canvas, no display needed)
        "pillow>=10.1",  # the GPU timeline drawn as a PNG (its bundled scalable font), and its small copy for the UI
        # the Ollama-compatible simulator (tests, demo, benchmark) is an aiohttp server
        "aiohttp>=3.9",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-timeout>=2.3", "pytest-xdist>=3.5"],
        "dev": ["pytest>=8", "pytest-timeout>=2.3", "pytest-xdist>=3.5", "ruff"],
    },
    entry_points={"console_scripts": ["turing=turing_dagster.cli:console_main"]},
)
