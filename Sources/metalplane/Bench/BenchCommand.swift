import ArgumentParser

/// `metalplane bench …`: measurements as ratios against a baseline taken in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks; results can be written to docs/benchmarks.md.",
                                                    subcommands: [APIBenchCommand.self, BackupBenchCommand.self, OnboardingBenchCommand.self, NodesBenchCommand.self, AgentsBenchCommand.self,
                                                                   RouterBenchCommand.self, PlacementBenchCommand.self, FailureBenchCommand.self])
}
