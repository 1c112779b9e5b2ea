// herald-bench: filled in by the analysis work (issue #4).
print("herald-bench: no benchmarks yet")
