"""Report builder: turns results.jsonl files into HTML, JSON and JUnit reports."""
