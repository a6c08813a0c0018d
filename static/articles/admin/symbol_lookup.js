'use strict';
// Stock-chart rows: as the editor types in 代码或符号, ask the admin's symbol lookup (the same parser
// that saving uses) and fill the row's market and code, showing the stock's name when it is on file,
// or why the symbol cannot be read. Saving checks the row again either way.
{
    const DELAY = 250;
    const timers = new WeakMap();
    const latest = new WeakMap();

    function status(input) {
        let element = input.parentElement.querySelector('.symbol-lookup');
        if (!element) {
            element = document.createElement('span');
            element.className = 'symbol-lookup';
            element.setAttribute('aria-live', 'polite');
            input.after(element);
        }
        return element;
    }

    function show(input, text, isError) {
        const element = status(input);
        element.textContent = text;
        element.classList.toggle('symbol-lookup-error', isError);
    }

    async function lookUp(input) {
        const row = input.closest('tr');
        const market = row.querySelector('select[name$="-market"]');
        const code = row.querySelector('input[name$="-code"]');
        const symbol = input.value.trim();
        if (!symbol) {
            show(input, '', false);
            return;
        }
        const params = new URLSearchParams({symbol: symbol, market: market ? market.value : ''});
        const asked = (latest.get(input) || 0) + 1;
        latest.set(input, asked);
        let data;
        try {
            const response = await fetch(`${input.dataset.lookupUrl}?${params}`, {
                credentials: 'same-origin',
                headers: {Accept: 'application/json'},
            });
            if (!response.ok) {
                throw new Error(response.statusText);
            }
            data = await response.json();
        } catch (error) {
            show(input, '暂时无法查询，保存时会再检查', true);
            return;
        }
        if (latest.get(input) !== asked) {
            return;  // a later keystroke's answer is on its way
        }
        if (data.error) {
            show(input, data.error, true);
            return;
        }
        if (market) {
            market.value = String(data.market);
        }
        if (code) {
            code.value = data.code;
        }
        const label = `${data.market_label} ${data.code}`;
        show(input, data.name ? `${data.name}（${label}）` : label, false);
    }

    // A bare US ticker needs its exchange: choosing it in the row asks again.
    document.addEventListener('change', (event) => {
        const select = event.target;
        if (!(select instanceof HTMLSelectElement) || !select.name.endsWith('-market')) {
            return;
        }
        const input = select.closest('tr').querySelector('input[data-lookup-url]');
        const element = input && input.parentElement.querySelector('.symbol-lookup-error');
        if (element && input.value.trim()) {
            lookUp(input);
        }
    });

    document.addEventListener('input', (event) => {
        const input = event.target;
        if (!(input instanceof HTMLInputElement) || !input.dataset.lookupUrl) {
            return;
        }
        clearTimeout(timers.get(input));
        timers.set(input, setTimeout(() => lookUp(input), DELAY));
    });
}
