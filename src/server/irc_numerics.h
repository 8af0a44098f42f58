/*
 * irc_numerics: every line the IRC front end sends, in one place (as
 * ngIRCd's messages.h). A numeric's format starts with its three digits
 * and a space; irc_num() sends ":SERVER NNN CLIENT " and the rest, so the
 * formats below hold what follows the client's name. Used by the IRC
 * files of session processes; wording follows the Modern IRC documents.
 */
#ifndef PARLEY_IRC_NUMERICS_H
#define PARLEY_IRC_NUMERICS_H

/* ---- registration ------------------------------------------------------- */

#define RPL_WELCOME  "001 :Welcome to the %s IRC Network %s!%s@%s"
#define RPL_YOURHOST "002 :Your host is %s, running version parley-%s"
#define RPL_CREATED  "003 :This server was created %s"
/* server, version, user modes, channel modes */
#define RPL_MYINFO   "004 %s parley-%s ow biklmnostv bklov"
#define RPL_ISUPPORT "005 %s :are supported by this server"

/* ---- replies ------------------------------------------------------------ */

#define RPL_UMODEIS	  "221 +%s%s"
#define RPL_LUSERCLIENT	  "251 :There are %llu users and 0 invisible on 1 servers"
#define RPL_LUSERUNKNOWN  "253 %llu :unknown connection(s)"
#define RPL_LUSERCHANNELS "254 %llu :channels formed"
#define RPL_LUSERME	  "255 :I have %llu clients and 0 servers"
#define RPL_LOCALUSERS	  "265 %llu %llu :Current local users %llu, max %llu"
#define RPL_GLOBALUSERS	  "266 %llu %llu :Current global users %llu, max %llu"
#define RPL_TRYAGAIN	  "263 %s :Please wait a while and try again"
#define RPL_AWAY	  "301 %s :%s"
#define RPL_USERHOST	  "302 :%s"
#define RPL_ISON	  "303 :%s"
#define RPL_UNAWAY	  "305 :You are no longer marked as being away"
#define RPL_NOWAWAY	  "306 :You have been marked as being away"
#define RPL_WHOISUSER	  "311 %s %s %s * :%s"
#define RPL_WHOISSERVER	  "312 %s %s :%s"
#define RPL_WHOISOPERATOR "313 %s :is an IRC operator"
#define RPL_ENDOFWHO	  "315 %s :End of WHO list"
#define RPL_WHOISIDLE	  "317 %s %lld %lld :seconds idle, signon time"
#define RPL_ENDOFWHOIS	  "318 %s :End of /WHOIS list"
#define RPL_WHOISCHANNELS "319 %s :"
#define RPL_LISTSTART	  "321 Channel :Users  Name"
#define RPL_LIST	  "322 %s %llu :%s"
#define RPL_LISTEND	  "323 :End of /LIST"
#define RPL_CHANNELMODEIS "324 %s %s"
#define RPL_CREATIONTIME  "329 %s %lld"
#define RPL_NOTOPIC	  "331 %s :No topic is set"
#define RPL_TOPIC	  "332 %s :%s"
#define RPL_TOPICWHOTIME  "333 %s %s %lld"
#define RPL_VERSION	  "351 parley-%s %s :the parley chat server"
#define RPL_WHOREPLY	  "352 %s %s %s %s %s %s :0 %s"
#define RPL_NAMREPLY	  "353 = %s :"
#define RPL_ENDOFNAMES	  "366 %s :End of /NAMES list"
#define RPL_INVITING	  "341 %s %s"
#define RPL_BANLIST	  "367 %s %s %s %lld"
#define RPL_ENDOFBANLIST  "368 %s :End of channel ban list"
#define RPL_YOUREOPER	  "381 :You are now an IRC operator"
#define RPL_INFO	  "371 :%s"
#define RPL_MOTD	  "372 :- %s"
#define RPL_ENDOFINFO	  "374 :End of INFO list"
#define RPL_MOTDSTART	  "375 :- %s Message of the day -"
#define RPL_ENDOFMOTD	  "376 :End of /MOTD command"
#define RPL_TIME	  "391 %s :%s"
#define RPL_WHOISSECURE	  "671 %s :is using a secure connection"
#define RPL_WHOISACCOUNT  "330 %s %s :is logged in as"

/* ---- errors ------------------------------------------------------------- */

#define ERR_NOSUCHNICK	     "401 %s :No such nick/channel"
#define ERR_NOSUCHSERVER     "402 %s :No such server"
#define ERR_NOSUCHCHANNEL    "403 %s :No such channel"
#define ERR_CANNOTSENDTOCHAN "404 %s :Cannot send to channel (join it first)"
#define ERR_CANNOTSENDTOMOD  "404 %s :Cannot send to channel (+m)"
#define ERR_TOOMANYCHANNELS                                                    \
	"405 %s :You have joined too many channels (max %ld)"
#define ERR_SERVERCHANNELS   "403 %s :Too many channels on this server (max %ld)"
#define ERR_TOOMANYTARGETS   "407 %s :Too many targets (max %d)"
#define ERR_NOORIGIN	     "409 :No origin specified"
#define ERR_INVALIDCAPCMD    "410 %s :Invalid CAP command"
#define ERR_NORECIPIENT	     "411 :No recipient given (%s)"
#define ERR_NOTEXTTOSEND     "412 :No text to send"
#define ERR_INPUTTOOLONG     "417 :Input line was too long"
#define ERR_UNKNOWNCOMMAND   "421 %s :Unknown command"
#define ERR_NOMOTD	     "422 :MOTD File is missing"
#define ERR_NONICKNAMEGIVEN  "431 :No nickname given"
#define ERR_ERRONEUSNICKNAME "432 %s :Erroneous nickname"
#define ERR_NICKNAMEINUSE    "433 %s :Nickname is already in use"
/* 433 too, so that clients pick another nickname as they do for one in
 * use; the text says why. */
#define ERR_NICKNAMEREGISTERED                                                 \
	"433 %s :Nickname is registered to an account; log in to use it"
#define ERR_USERNOTINCHANNEL  "441 %s %s :They aren't on that channel"
#define ERR_NOTONCHANNEL      "442 %s :You're not on that channel"
#define ERR_USERONCHANNEL     "443 %s %s :is already on channel"
#define ERR_NOTREGISTERED     "451 :You have not registered"
#define ERR_NEEDMOREPARAMS    "461 %s :Not enough parameters"
#define ERR_ALREADYREGISTERED "462 :You may not reregister"
#define ERR_PASSWDMISMATCH    "464 :Password incorrect"
#define ERR_CHANNELISFULL     "471 %s :Cannot join channel (+l)"
#define ERR_UNKNOWNMODE	      "472 %s :is unknown mode char to me"
#define ERR_INVITEONLYCHAN    "473 %s :Cannot join channel (+i)"
#define ERR_BANNEDFROMCHAN    "474 %s :Cannot join channel (+b)"
#define ERR_BADCHANNELKEY     "475 %s :Cannot join channel (+k)"
#define ERR_BADCHANMASK	      "476 %s :Bad Channel Mask"
#define ERR_BANLISTFULL	      "478 %s b :Channel ban list is full"
#define ERR_NOPRIVILEGES      "481 :Permission Denied- You're not an IRC operator"
#define ERR_CHANOPRIVSNEEDED  "482 %s :You're not channel operator"
#define ERR_NOOPERHOST	      "491 :No O-lines for your host"
#define ERR_UMODEUNKNOWNFLAG  "501 :Unknown MODE flag"
#define ERR_USERSDONTMATCH    "502 :Cant change mode for other users"
#define ERR_INVALIDMODEPARAM  "696 %s %s * :Invalid mode parameter"

/* ---- accounts (IRCv3 SASL 3.1) ------------------------------------------ */

#define RPL_LOGGEDIN	 "900 %s!%s@%s %s :You are now logged in as %s"
#define RPL_LOGGEDOUT	 "901 %s!%s@%s :You are now logged out"
#define RPL_SASLSUCCESS	 "903 :SASL authentication successful"
#define ERR_SASLFAIL	 "904 :SASL authentication failed"
#define ERR_SASLTOOLONG	 "905 :SASL message too long"
#define ERR_SASLABORTED	 "906 :SASL authentication aborted"
#define ERR_SASLALREADY	 "907 :You have already authenticated using SASL"
#define RPL_SASLMECHS	 "908 PLAIN :are available SASL mechanisms"
#define IRC_AUTHENTICATE "AUTHENTICATE +" /* send the response */
/* A service's NOTICE: service, service, client, text */
#define IRC_SERVICE_NOTICE ":%s!%s@services. NOTICE %s :%s"

/* ---- other lines (sent as they are, after the tags) --------------------- */

#define IRC_CAP		":%s CAP %s %s :%s"   /* server, client, sub, list */
#define IRC_CAP_302	":%s CAP %s %s * :%s" /* not the last of a list */
#define IRC_PONG	":%s PONG %s :%s"     /* server, server, token */
#define IRC_PING	"PING :%s"	      /* server */
#define IRC_ERROR	"ERROR :Closing link: %s"      /* why */
#define IRC_BATCH_START ":%s BATCH +%s chathistory %s" /* server, ref, room */
#define IRC_BATCH_END	":%s BATCH -%s"		       /* server, ref */
/* server, code, subcommand, " " and a target or "", text */
#define IRC_FAIL_CHATHISTORY ":%s FAIL CHATHISTORY %s %s%s%s :%s"
#define IRC_BATCH_TARGETS                                                      \
	":%s BATCH +%s draft/chathistory-targets" /* server, ref */
/* "@batch=", ref, " " (or three ""), server, target, time */
#define IRC_TARGETS_LINE "%s%s%s:%s CHATHISTORY TARGETS %s %s"
/* server, subcommand, target, reference */
#define IRC_FAIL_CHATHISTORY_REF                                               \
	":%s FAIL CHATHISTORY MESSAGE_ERROR %s %s %s :Unknown message reference"

/* The server's line in WHOIS (312) and its description. */
#define IRC_SERVER_INFO "parley chat server"

/* Why the server closes a connection it will not serve. */
#define IRC_REFUSE_FULL	    "server full, try again later"
#define IRC_REFUSE_PER_ADDR "too many connections from your address (limit %ld)"
#define IRC_REFUSE_BUSY	    "server busy, try again later"
#define IRC_REFUSE_BANNED   "You are banned from this server"
#define IRC_SHUTDOWN	    "server shutting down"

#endif
