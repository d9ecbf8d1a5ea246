import Backup
import Gateway
import NIOCore
import HTTPTypes
import Core
import Fabric
import IAM
import NetworkPools
import Provisioner
import Scheduler
import Tenancy
import Prometheus
import Reports
import Storage
import Telemetry

/// What the controller's routes are built from.
public struct ControllerServices: Sendable {
    public let configuration: ControllerConfiguration
    public let database: any Database
    public let identity: IdentityService
    public let auditLog: AuditLog
    public let pools: PoolService
    public let tenants: TenantService
    public let nodes: NodeService
    public let agents: AgentService
    public let instances: InstanceService
    public let modelStore: ModelStore
    /// The inference data plane: router, usage ledger, traces, hot-swaps.
    public let gateway: InferenceGateway
    /// Switches, cabling, tenant addresses; the reconciler programs them.
    public let fabric: FabricService
    public let fabricReconciler: FabricReconciler
    public let backups: BackupService
    public let auditArchive: AuditArchive
    /// The fleet's time series, fed by the agents' batches.
    public let telemetry: TelemetryStore
    /// Telemetry past the hot retention: hourly and daily rollups on the backup target for 12 months.
    let telemetryArchive: TelemetryColdArchive
    /// Alert rules as data; a singleton loop evaluates them.
    public let alertRules: AlertRuleStore
    /// Alerts grouped into incidents, from detection to review; a singleton loop groups them.
    public let incidents: IncidentStore
    /// Where incidents are announced (webhooks, Alertmanagers).
    public let notificationTargets: NotificationTargets
    /// What nodes cost and the API prices compared with (platform and per tenant).
    public let costSettings: CostSettingsStore
    /// The weekly reviews and monthly reports made, with their PDFs.
    public let reports: ReportStore
    /// Threads for blocking work (the PDF renderer's child process).
    public let workers: BlockingWorkPool
    public let clock: WallClock
    public let metrics: PrometheusCollectorRegistry
    /// When this controller started, ms.
    public let startedAt: Int64
    /// Set once migrations have run: `/readyz` reports it.
    public let migrationsDone: Bool
}
