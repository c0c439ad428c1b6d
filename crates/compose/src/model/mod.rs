//! Typed compose-spec model, field for field in compose-go v2.9.1's order (the JSON output
//! order of `config --format json`). Built from the long-form node tree with
//! [`crate::de::from_node`]; serialized with serde through the Go-exact JSON writer.
//!
//! Conventions: Go `omitempty` is `skip_serializing_if` (empty strings, zero numbers,
//! false, `None`, empty collections); a Go non-pointer struct is always printed; Go maps
//! are `BTreeMap`s so keys come out sorted; fields Go tags `json:"-"` are `#[serde(skip)]`.
//! Every struct denies unknown keys; `x-*` keys are dropped except at the top level (see
//! [`crate::de`]).

pub mod build;
pub mod deploy;
pub mod project;
pub mod service;
pub mod types;

pub use build::BuildConfig;
pub use deploy::{
    DeployConfig, DeviceRequest, DiscreteGenericResource, GenericResource, Placement, PlacementPreferences,
    Resource, Resources, RestartPolicy, UpdateConfig,
};
pub use project::{
    ConfigObjConfig, FileObjectConfig, IncludeConfig, IpamConfig, IpamPool, ModelConfig, NetworkConfig, Project,
    SecretConfig, VolumeConfig,
};
pub use service::{
    BlkioConfig, CredentialSpecConfig, DependsOnCondition, DevelopConfig, DeviceMapping, EnvFile, ExtendsConfig,
    FileReferenceConfig, HealthCheckConfig, LoggingConfig, ServiceConfig, ServiceConfigObjConfig, ServiceDependency,
    ServiceHook, ServiceModelConfig, ServiceNetworkConfig, ServicePortConfig, ServiceProviderConfig,
    ServiceSecretConfig, ServiceVolumeBind, ServiceVolumeConfig, ServiceVolumeImage, ServiceVolumeTmpfs,
    ServiceVolumeVolume, ThrottleDevice, Trigger, VolumeType, WatchAction, WeightDevice,
};
pub use types::{
    DeviceCount, Duration, Extensions, External, FileMode, HealthCheckTest, HostsList, Labels, Mapping,
    MappingWithEquals, MultiOptions, Options, Scalar, ShellCommand, SshConfig, SshKey, StringList, StringOrNumber,
    StringOrNumberList, UlimitsConfig, UnitBytes, shell_split,
};
