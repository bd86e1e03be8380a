use viss_runtime::VissEnum;

#[derive(Clone, Copy, PartialEq, Eq, VissEnum)]
pub struct NotAnEnum;

#[derive(Clone, Copy, PartialEq, Eq, VissEnum)]
#[viss(name = "X")]
pub enum Carries {
    Value(u8),
    Named { level: u8 },
    Plain,
}

#[derive(Clone, Copy, PartialEq, Eq, VissEnum)]
pub enum Spelling {
    Open,
    #[viss(name = "OPEN")]
    AlsoOpen,
    #[viss(name = "")]
    Nothing,
    #[viss(name = "viss-inline:oops")]
    Inline,
    #[viss(rename = "X")]
    Unknown,
}

#[derive(Clone, Copy, PartialEq, Eq, VissEnum)]
pub enum Empty {}

fn main() {}
