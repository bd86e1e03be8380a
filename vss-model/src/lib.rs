//! COVESA VSS data model.
