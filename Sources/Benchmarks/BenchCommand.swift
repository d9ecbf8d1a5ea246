import ArgumentParser

/// `metalplane bench …` (its own target, so that the executable stays parse-and-wire): measurements as ratios against a baseline taken in the same run.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks; results can be written to docs/benchmarks.md.",
                                                    subcommands: [APIBenchCommand.self, StoreBenchCommand.self, FabricBenchCommand.self, BackupBenchCommand.self, OnboardingBenchCommand.self, DirectoryBenchCommand.self, RealmsBenchCommand.self, NodesBenchCommand.self, AgentsBenchCommand.self,
                                                                   RouterBenchCommand.self, PlacementBenchCommand.self, FailureBenchCommand.self, FailoverBenchCommand.self, TelemetryBenchCommand.self, PortalBenchCommand.self, ReportsBenchCommand.self])

    public init() {}
}
