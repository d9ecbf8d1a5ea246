import ArgumentParser
import Benchmarks

/// The one binary: the controller, the node agent, the CLI and the benchmarks.
@main
struct MetalplaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metalplane",
        abstract: "Multi-tenant bare-metal platform controller for inference clusters.",
        version: "0.1.0",
        subcommands: [ControllerCommand.self, SwitchCommand.self, BackupCommand.self, AuditCommand.self, LoginCommand.self, WhoamiCommand.self, TokenCommand.self, APICommand.self,
                      TenantCommand.self, OrgCommand.self, ProjectCommand.self, UserCommand.self, DirectoryCommand.self, PoolCommand.self, NodeCommand.self,
                      TelemetryCommand.self, IncidentCommand.self, ReportCommand.self, EngineSimCommand.self, OpenAPICommand.self, BenchCommand.self])
}
