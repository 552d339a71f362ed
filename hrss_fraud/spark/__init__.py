"""A province on Apache Spark: the same catalogue, parameters and knowledge over the same
Parquet lake, with the same findings as DuckDB."""
