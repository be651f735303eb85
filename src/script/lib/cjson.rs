use mlua::{Lua, Table};
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> { lua.create_table() }
