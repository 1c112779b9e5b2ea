/// Every benchmark `herald-bench` knows, in output order. Add one line per new benchmark.
enum BenchmarkRegistry {
    static var all: [any HeraldBenchmark.Type] { [
        CoincidencesBenchmark.self,
        CoincidencesParallelBenchmark.self,
        CorrelationBenchmark.self,
        PTUDecodeBenchmark.self,
        SimulateBenchmark.self,
        HeraldRoundTripBenchmark.self,
        TelemetryBenchmark.self,
        TagStreamBenchmark.self,
        PolarizationCompensationBenchmark.self,
        VisibilityMaintenanceBenchmark.self,
    ] }
}
