/*
 * core: names of the core operations and errors, for logs (--verbose).
 * Pure; used by sessions and the supervisor.
 */
#include "server/core.h"

const char *
core_op_name(enum core_op_kind op)
{
	static const char *const names[] = {
	    [CORE_NONE] = "none",
	    [CORE_SAY] = "say",
	    [CORE_PRIVMSG] = "privmsg",
	    [CORE_NICK] = "nick",
	    [CORE_JOIN] = "join",
	    [CORE_PART] = "part",
	    [CORE_TOPIC] = "topic",
	    [CORE_NAMES] = "who",
	    [CORE_ROOMS] = "rooms",
	    [CORE_QUIT] = "quit",
	    [CORE_HELLO] = "hello",
	    [CORE_HISTORY] = "history",
	    [CORE_REGISTER] = "register",
	    [CORE_LOGIN] = "login",
	    [CORE_LOGOUT] = "logout",
	    [CORE_PASSWORD] = "password",
	    [CORE_UNREGISTER] = "unregister",
	    [CORE_WHO] = "irc who",
	    [CORE_WHOIS] = "whois",
	    [CORE_USERS] = "users",
	    [CORE_LUSERS] = "lusers",
	    [CORE_MOTD] = "motd",
	    [CORE_AWAY] = "away",
	    [CORE_MODE] = "mode",
	    [CORE_KICK] = "kick",
	    [CORE_BANS] = "bans",
	    [CORE_INVITE] = "invite",
	    [CORE_OPER] = "oper",
	    [CORE_KILL] = "kill",
	    [CORE_WALL] = "wall",
	    [CORE_GLINE] = "gline",
	    [CORE_ROOM_REGISTER] = "register room",
	    [CORE_ROOM_DROP] = "drop room",
	    [CORE_ROOM_INFO] = "room info",
	    [CORE_ROOM_SAY] = "say from outside",
	};

	if ((unsigned)op >= sizeof(names) / sizeof(names[0]) || !names[op])
		return "unknown";
	return names[op];
}

const char *
core_err_name(enum core_err err)
{
	static const char *const names[] = {
	    [CORE_OK] = "ok",
	    [CORE_ERR_NICK_IN_USE] = "nickname in use",
	    [CORE_ERR_NICK_INVALID] = "invalid nickname",
	    [CORE_ERR_NICK_SAME] = "same nickname",
	    [CORE_ERR_ROOM_INVALID] = "invalid room name",
	    [CORE_ERR_NOT_IN_ROOM] = "not in room",
	    [CORE_ERR_NO_SUCH_ROOM] = "no such room",
	    [CORE_ERR_NO_SUCH_NICK] = "no such nick",
	    [CORE_ERR_CLIENT_ROOMS] = "in too many rooms",
	    [CORE_ERR_SERVER_ROOMS] = "too many rooms",
	    [CORE_ERR_TOPIC_TOO_LONG] = "topic too long",
	    [CORE_ERR_NO_ROOM] = "in no room",
	    [CORE_ERR_NO_TEXT] = "nothing to send",
	    [CORE_ERR_UNAVAILABLE] = "unavailable",
	    [CORE_ERR_STORE_DOWN] = "store down",
	    [CORE_ERR_NO_STORE] = "no database",
	    [CORE_ERR_NICK_REGISTERED] = "nickname registered",
	    [CORE_ERR_LOGIN_FAILED] = "login failed",
	    [CORE_ERR_LOGIN_LIMITED] = "login rate-limited",
	    [CORE_ERR_ACCOUNT_EXISTS] = "account exists",
	    [CORE_ERR_NOT_LOGGED_IN] = "not logged in",
	    [CORE_ERR_PASSWORD_INVALID] = "invalid password",
	    [CORE_ERR_HISTORY_REF] = "unknown message reference",
	    [CORE_ERR_LOGGED_IN] = "already logged in",
	    [CORE_ERR_NO_MOTD] = "no motd",
	    [CORE_ERR_CHANOP_NEEDED] = "not room operator",
	    [CORE_ERR_USER_NOT_IN] = "user not in room",
	    [CORE_ERR_USER_ON_ROOM] = "user already in room",
	    [CORE_ERR_UNKNOWN_MODE] = "unknown mode",
	    [CORE_ERR_ROOM_FULL] = "room full",
	    [CORE_ERR_INVITE_ONLY] = "invite only",
	    [CORE_ERR_BANNED] = "banned",
	    [CORE_ERR_BAD_KEY] = "bad key",
	    [CORE_ERR_CANNOT_SEND] = "cannot send",
	    [CORE_ERR_OPER_FAILED] = "oper password mismatch",
	    [CORE_ERR_NO_OPER_NAME] = "no such oper",
	    [CORE_ERR_NOT_OPER] = "not a server operator",
	    [CORE_ERR_MODE_ARG] = "bad mode parameter",
	    [CORE_ERR_BAD_MASK] = "bad mask",
	    [CORE_ERR_BAN_LIST_FULL] = "ban list full",
	    [CORE_ERR_NO_SUCH_BAN] = "no such ban",
	    [CORE_ERR_ROOM_REGISTERED] = "room registered",
	    [CORE_ERR_ROOM_UNREGISTERED] = "room not registered",
	    [CORE_ERR_NOT_FOUNDER] = "not the founder",
	    [CORE_ERR_ROOM_SERVERS] = "the server's room",
	};

	if ((unsigned)err >= sizeof(names) / sizeof(names[0]) || !names[err])
		return "unknown";
	return names[err];
}
