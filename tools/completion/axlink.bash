# SPDX-License-Identifier: MIT
# bash completion for axlink: commands, each command's options, register
# ids and drive URIs. Installed as share/bash-completion/completions/axlink;
# by hand: source tools/completion/axlink.bash
#
# Everything comes from axlink itself, so the completion follows the tool:
#   commands            the "Commands:" list of 'axlink --help'
#   options, arguments  'axlink COMMAND --help' (its usage lines and options)
#   register ids        'axlink registers URI [--dict FILE]' for an argument
#                       the usage line calls REGISTER (or REG)
#   URIs                the drives of the last 'axlink list'
#                       ($XDG_CACHE_HOME/axlink/last-discovery), then the schemes
# Help texts are asked once per shell and kept in _axlink_cache.

declare -gA _axlink_cache 2>/dev/null || true

# The output of 'axlink ARGS --help', asked once per shell.
_axlink_help()
{
	local key="help:$*"
	if [[ -z ${_axlink_cache[$key]+x} ]]; then
		_axlink_cache[$key]=$("${_axlink_bin:-axlink}" "$@" --help 2>/dev/null)
	fi
	printf '%s\n' "${_axlink_cache[$key]}"
}

# Command names ("read", "db import", ...), one per line.
_axlink_commands()
{
	_axlink_help | sed -n '/^Commands:/,/^$/{s/^  \([^ ].*[^ ]\)  .*/\1/p;s/^  \([^ ]*\)$/\1/p}' |
		sed 's/  *$//'
}

# The options of command "$1" (its --help), one per line.
_axlink_options()
{
	_axlink_help $1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# Options of command "$1" that take a value ("--axis N" in its help).
_axlink_value_options()
{
	_axlink_help $1 | grep -o -- '--[a-z][a-z0-9-]* [A-Z][A-Z]*' | sed 's/ .*//' | sort -u
	printf '%s\n' --timeout-ms --plugin-dir
}

# The names of the positional arguments of command "$1" at index $2 (0-based),
# from each of its usage lines ("usage: axlink read URI REGISTER ...").
_axlink_arg_names()
{
	local cmd=$1 idx=$2 line
	local -a tok pos
	while IFS= read -r line; do
		case $line in
		"usage: axlink $cmd "* | "   or: axlink $cmd "*) ;;
		*) continue ;;
		esac
		line=${line#*"axlink $cmd "}
		read -r -a tok <<<"$line"
		pos=()
		local t
		for t in "${tok[@]}"; do
			[[ $t == \[* || $t == -* || $t == *\] ]] && continue
			pos+=("$t")
		done
		if ((idx < ${#pos[@]})); then
			printf '%s\n' "${pos[idx]}"
		elif ((${#pos[@]})) && [[ ${pos[-1]} == *... ]]; then
			printf '%s\n' "${pos[-1]}"
		fi
	done < <(_axlink_help $cmd)
}

_axlink_uris()
{
	local cache=${XDG_CACHE_HOME:-$HOME/.cache}/axlink/last-discovery
	[[ -r $cache ]] && cat -- "$cache"
	printf '%s\n' eth:// serial: usb: virtual: axlink://
}

_axlink()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local _axlink_bin=${COMP_WORDS[0]}
	local -a args=() values
	local cmd="" i w dict="" skip=0 prev_opt=""

	# The command (one word, or two for "db ..." / "config ..."), then its
	# positional arguments; option values are skipped.
	mapfile -t values < <(_axlink_value_options "")
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then
			skip=0
			[[ $prev_opt == --dict ]] && dict=$w
			continue
		fi
		if [[ $w == -* && $w != -[0-9]* ]]; then
			prev_opt=$w
			[[ " ${values[*]} " == *" $w "* ]] && skip=1
			continue
		fi
		if [[ -z $cmd ]]; then
			cmd=$w
			mapfile -t values < <(_axlink_value_options "$cmd")
			continue
		fi
		if [[ ${#args[@]} -eq 0 ]] && _axlink_commands | grep -qx -- "$cmd $w"; then
			cmd="$cmd $w"
			mapfile -t values < <(_axlink_value_options "$cmd")
			continue
		fi
		args+=("$w")
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help --version --verbose --json
				--timeout-ms --plugin-dir" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_axlink_commands | cut -d' ' -f1 | sort -u) help" \
				-- "$cur")
		fi
		return
	fi
	# A group word ("db", "config"): its subcommands.
	if [[ ${#args[@]} -eq 0 ]] && ! _axlink_commands | grep -qx -- "$cmd" &&
		_axlink_commands | grep -q -- "^$cmd "; then
		mapfile -t COMPREPLY < <(compgen -W "$(_axlink_commands | sed -n "s/^$cmd //p")" -- "$cur")
		return
	fi
	[[ $cmd == help ]] && {
		mapfile -t COMPREPLY < <(compgen -W "$(_axlink_commands | cut -d' ' -f1 | sort -u)" -- "$cur")
		return
	}

	# The value of an option.
	case $prev in
	--dict | --csv | --db | --out | --file)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--plugin-dir)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	--units)
		mapfile -t COMPREPLY < <(compgen -W "counts rev deg rad mm" -- "$cur")
		return
		;;
	esac
	if [[ " $(_axlink_value_options "$cmd" | tr '\n' ' ') " == *" $prev "* ]]; then
		return # a number or a name only the user knows
	fi
	if [[ $cur == -* && $cur != -[0-9]* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_axlink_options "$cmd")" -- "$cur")
		return
	fi

	# A positional argument: what its usage lines call it.
	local names
	names=$(_axlink_arg_names "$cmd" ${#args[@]})
	case $names in
	*REG*)
		if [[ ${#args[@]} -gt 0 || -n $dict ]]; then
			local -a q=(registers)
			[[ ${#args[@]} -gt 0 ]] && q+=("${args[0]}")
			[[ -n $dict ]] && q+=(--dict "$dict")
			mapfile -t COMPREPLY < <(compgen -W "$("$_axlink_bin" "${q[@]}" 2>/dev/null)" \
				-- "$cur")
		fi
		;;
	*URI* | *SPEC*)
		compopt -o nospace 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -W "$(_axlink_uris)" -- "$cur")
		local n=${#COMPREPLY[@]}
		# A whole URI gets its trailing blank back; a scheme prefix does not.
		if ((n == 1)) && [[ ${COMPREPLY[0]} != *: && ${COMPREPLY[0]} != *// ]]; then
			COMPREPLY[0]+=" "
		fi
		;;
	*FILE*)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	esac
}

complete -F _axlink axlink
